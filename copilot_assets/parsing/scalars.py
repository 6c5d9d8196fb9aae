"""Scalar rules shared by every parser (see the package docstring): optional fields, integer counters,
bounded strings, aware UTC timestamps, and the one way to say a report is malformed."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from copilot_assets.metrics import DORMANT_DAYS, acceptance_rate
from resources.github_errors import MalformedReport

PARSER_VERSION = 2
"""Version of the parsers that turn raw report records into rows, stored with every derived row
(``parser_version``). Bump it with every change to what a parser derives; ``copilot-flow rederive`` (or
``copilot_rederive_job``) then rebuilds the rows from ``copilot_raw_reports``. 1: rows from before versions
were recorded (stored as null); 2: the 2026 fields (pull requests, agents, code review, CLI, app, third-party
agents, AI credits, adoption phase), seats per plan and their cost, exact ratios."""

DAY_FMT = "%Y-%m-%d"
_DAY_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CHAT_MODE_RE = re.compile(r"chat_panel_[a-z0-9_]+_mode")

KEY_MAX = 200
LOGIN_MAX = 100
SETTING_MAX = 32
BIGINT_MAX = 2**63 - 1  # BigInteger columns (counters, user and team ids)
INT_MAX = 2**31 - 1  # Integer columns (active-user and seat counts)
DORMANT_AFTER = timedelta(days=DORMANT_DAYS)
UNKNOWN_KEY = "unknown"

# the counters every breakdown table (and the per-user / per-GitHub-team tables) has
COUNTERS = (
    "user_initiated_interaction_count",
    "code_generation_activity_count",
    "code_acceptance_activity_count",
    "loc_suggested_to_add_sum",
    "loc_added_sum",
)
USAGE_COUNTERS = (*COUNTERS, "loc_suggested_to_delete_sum", "loc_deleted_sum")
ACTIVE_USER_FIELDS = (
    "daily_active_users",
    "weekly_active_users",
    "monthly_active_users",
    "monthly_active_chat_users",
    "monthly_active_agent_users",
)


def _malformed(message: str) -> MalformedReport:
    return MalformedReport(message, http_status=None)


# ----------------------------------------------------------------------------- scalar helpers
def format_day(day: date) -> str:
    return day.strftime(DAY_FMT)


def parse_day(value: Any, where: str = "day") -> date:
    """A ``YYYY-MM-DD`` string → date; anything else → MalformedReport naming ``where``."""
    if not isinstance(value, str) or not _DAY_RE.fullmatch(value):
        raise _malformed(f"{where}: expected a YYYY-MM-DD date string, got {type(value).__name__}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _malformed(f"{where}: {value!r} is not a valid date") from None


def parse_timestamp(value: Any, where: str) -> datetime | None:
    """ISO-8601 → aware UTC datetime. Offsets (``-06:00``, ``Z``) are honoured; a naive value is UTC.
    ``None`` stays ``None``."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _malformed(f"{where}: expected an ISO-8601 timestamp string, got {type(value).__name__}")
    try:
        ts = datetime.fromisoformat(value.strip())
        return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _malformed(f"{where}: {value[:40]!r} is not an ISO-8601 timestamp") from None


def to_utc(value: datetime) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _int_or_none(value: Any, where: str, limit: int = BIGINT_MAX) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _malformed(f"{where}: expected an integer, got a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        raise _malformed(f"{where}: expected an integer, got {type(value).__name__}")
    if number < 0 or number > limit:
        raise _malformed(f"{where}: integer out of range (must be 0..{limit})")
    return number


def _float_or_none(value: Any, where: str) -> float | None:
    """A non-negative finite number (int or float) as float; ``None`` stays ``None`` (GitHub did not say)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _malformed(f"{where}: expected a number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise _malformed(f"{where}: expected a finite number >= 0")
    return number


def _opt_bool(value: Any, where: str) -> bool | None:
    """A boolean GitHub may leave out: ``None`` stays ``None`` (unknown, not False)."""
    return None if value is None else _bool(value, where)


def _first(rec: Mapping[str, Any], names: tuple[str, ...]) -> tuple[str, Any]:
    """(name, value) of the first of ``names`` the record carries with a non-null value (GitHub renamed some
    fields: "coding agent" became "cloud agent"), else (the first name, None)."""
    for name in names:
        if rec.get(name) is not None:
            return name, rec[name]
    return names[0], None


def _count(value: Any, where: str) -> int:
    number = _int_or_none(value, where)
    return 0 if number is None else number


def _bool(value: Any, where: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _malformed(f"{where}: expected a boolean, got {type(value).__name__}")
    return value


def _text(value: Any, where: str, limit: int, *, default: str | None = None) -> str:
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        raise _malformed(f"{where}: expected a string, got {type(value).__name__}")
    cleaned = value.replace("\x00", "")[:limit]
    if not cleaned and default is not None:
        return default
    return cleaned


def _opt_text(value: Any, where: str, limit: int) -> str | None:
    if value is None:
        return None
    text = _text(value, where, limit)
    return text or None


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _malformed(f"{where}: expected a JSON object, got {type(value).__name__}")
    return value


def _objects(value: Any, where: str) -> list[Mapping[str, Any]]:
    """A list of JSON objects; missing/``null`` → []."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _malformed(f"{where}: expected a list of objects, got {type(value).__name__}")
    return [_object(item, f"{where}[{i}]") for i, item in enumerate(value)]


_SUMMED = (*USAGE_COUNTERS, "chat_interactions", "agent_interactions")


def _with_rate(row: dict[str, Any], where: str = "row") -> dict[str, Any]:
    """Add the acceptance rate; a sum that overflowed BIGINT (counters summed over rows) is malformed."""
    for name in _SUMMED:
        if row.get(name, 0) > BIGINT_MAX:
            raise _malformed(f"{where}.{name}: sum out of range (must be <= 2^63-1)")
    row["acceptance_rate"] = acceptance_rate(row["code_generation_activity_count"],
                                             row["code_acceptance_activity_count"])
    return row
