"""The 2026 fields of an aggregate day object (github-copilot-api.md §1.5 A–C) → rows: the active-user counts
of the cloud agent, code review, Copilot CLI and the Copilot app (columns of copilot_usage_daily),
``pull_requests{}`` (copilot_pull_request_daily, its suggestions by comment type in
copilot_pr_suggestion_daily), ``totals_by_cli{}`` / ``totals_by_copilot_app{}`` (copilot_cli_daily /
copilot_app_daily) and ``totals_by_3rd_party_agent[]`` (copilot_third_party_agent_daily).

Null is not 0: a field GitHub left out is ``None`` (an absent object gives no row), never 0. Nothing here
is added to the top-level counters (a third-party agent's ``user_initiated_interaction_count`` is its own),
and distinct-user counts are taken as GitHub gives them, never summed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from copilot_assets.parsing.scalars import (
    INT_MAX,
    KEY_MAX,
    UNKNOWN_KEY,
    _first,
    _float_or_none,
    _int_or_none,
    _object,
    _objects,
    _opt_text,
    _text,
)
from resources.tables import (
    PR_SUGGESTION_COUNTS,
    PULL_REQUEST_COUNTS,
    PULL_REQUEST_MEDIANS,
    SURFACE_COUNTS,
    SURFACE_USER_FIELDS,
)

VERSION_MAX = 64
OLD_AGENT_NAME, NEW_AGENT_NAME = "copilot_coding_agent", "copilot_cloud_agent"
"""GitHub renamed the "coding agent" the "cloud agent" (2026-04-10); field names migrated over weeks."""


def field_names(column: str) -> tuple[str, ...]:
    """The report field names a column is read from: the cloud agent's columns also take the old names."""
    if NEW_AGENT_NAME in column:
        return column, column.replace(NEW_AGENT_NAME, OLD_AGENT_NAME)
    return (column,)


def surface_user_counts(rec: Mapping[str, Any]) -> dict[str, int | None]:
    """The active-user counts of the 2026 surfaces (``SURFACE_USER_FIELDS``), ``None`` when absent."""
    out: dict[str, int | None] = {}
    for column in SURFACE_USER_FIELDS:
        name, value = _first(rec, field_names(column))
        out[column] = _int_or_none(value, name, INT_MAX)
    return out


def _add(a: int | None, b: int | None) -> int | None:
    """Sum of two counts that may be unknown: unknown only when both are."""
    return a if b is None else b if a is None else a + b


def _summed(rows: dict[str, dict[str, Any]], key_column: str, key: str, values: dict[str, int | None],
            day: date) -> None:
    row = rows.setdefault(key, {"day": day, key_column: key, **dict.fromkeys(values)})
    for name, value in values.items():
        row[name] = _add(row[name], value)


def pull_request_rows(rec: Mapping[str, Any], day: date) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``pull_requests{}`` → ([one copilot_pull_request_daily row], copilot_pr_suggestion_daily rows);
    ([], []) when the report has no ``pull_requests``. Comment types that collide are summed."""
    if rec.get("pull_requests") is None:
        return [], []
    pr = _object(rec["pull_requests"], "pull_requests")
    row: dict[str, Any] = {"day": day}
    for name in PULL_REQUEST_COUNTS:
        row[name] = _int_or_none(pr.get(name), f"pull_requests.{name}")
    for name in PULL_REQUEST_MEDIANS:
        row[name] = _float_or_none(pr.get(name), f"pull_requests.{name}")
    by_type: dict[str, dict[str, Any]] = {}
    where = "pull_requests.copilot_suggestions_by_comment_type"
    for i, item in enumerate(_objects(pr.get("copilot_suggestions_by_comment_type"), where)):
        key = _text(item.get("comment_type"), f"{where}[{i}].comment_type", KEY_MAX, default=UNKNOWN_KEY)
        _summed(by_type, "comment_type", key,
                {n: _int_or_none(item.get(n), f"{where}[{i}].{n}") for n in PR_SUGGESTION_COUNTS}, day)
    return [row], [by_type[k] for k in sorted(by_type)]


def surface_rows(rec: Mapping[str, Any], field: str, day: date) -> list[dict[str, Any]]:
    """``totals_by_cli{}`` or ``totals_by_copilot_app{}`` → [one row] ([] when absent); the CLI's row also
    carries ``cli_version`` (``last_known_cli_version.cli_version``)."""
    if rec.get(field) is None:
        return []
    obj = _object(rec[field], field)
    tokens = _object(obj.get("token_usage") or {}, f"{field}.token_usage")
    row: dict[str, Any] = {"day": day}
    for name in SURFACE_COUNTS:
        source = tokens if name.endswith("_tokens_sum") else obj
        row[name] = _int_or_none(source.get(name), f"{field}.{name}")
    row["avg_tokens_per_request"] = _float_or_none(tokens.get("avg_tokens_per_request"),
                                                   f"{field}.token_usage.avg_tokens_per_request")
    if field == "totals_by_cli":
        version = _object(obj.get("last_known_cli_version") or {}, f"{field}.last_known_cli_version")
        row["cli_version"] = _opt_text(version.get("cli_version"), f"{field}.last_known_cli_version.cli_version",
                                       VERSION_MAX)
    return [row]


def third_party_agent_rows(rec: Mapping[str, Any], day: date) -> list[dict[str, Any]]:
    """``totals_by_3rd_party_agent[]`` → one row per ``agent_id`` (stable; ``agent_name`` is the display
    name, the last one wins), counters of colliding ids summed. Never added to the top-level counters."""
    rows: dict[str, dict[str, Any]] = {}
    names: dict[str, str | None] = {}
    where = "totals_by_3rd_party_agent"
    for i, item in enumerate(_objects(rec.get(where), where)):
        name = _opt_text(item.get("agent_name"), f"{where}[{i}].agent_name", KEY_MAX)
        key = _text(item.get("agent_id"), f"{where}[{i}].agent_id", KEY_MAX, default=name or UNKNOWN_KEY)
        _summed(rows, "agent_id", key, {n: _int_or_none(item.get(n), f"{where}[{i}].{n}")
                                        for n in ("user_initiated_interaction_count", "session_count")}, day)
        names[key] = name if name is not None else names.get(key)
    return [{**rows[k], "agent_name": names[k]} for k in sorted(rows)]
