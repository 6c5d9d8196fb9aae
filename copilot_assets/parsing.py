"""Pure parsers: raw GitHub Copilot report records (dicts) → row dicts for the app store's tables.

Rules shared by every parser here:

- Every field is optional; unknown fields are ignored (the raw report is stored elsewhere, unchanged).
- Rows carry ``day`` (a ``datetime.date``) but no ``team_id`` / ``fetched_at``: the writer adds those.
- Column names are exactly those of ``resources.tables``.
- Counters missing or ``null`` → 0; active-user counts missing or ``null`` → ``None`` (unknown, not 0).
- A counter must be an integer (an integral float such as ``3.0`` is accepted; ``bool`` and strings are
  not), non-negative and within BIGINT range.
- Wrong shapes raise :class:`~resources.github_errors.MalformedReport` (``http_status=None``) naming the
  field — never any other exception.
- Key strings (language/editor/model/feature/GitHub team slug) are truncated to 200 characters, logins to
  100; NUL characters are removed (PostgreSQL rejects them). Rows whose keys collide after that are summed.
- All datetimes returned are timezone-aware UTC.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from copilot_assets.metrics import acceptance_rate
from resources.github_errors import MalformedReport

DAY_FMT = "%Y-%m-%d"
_DAY_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CHAT_MODE_RE = re.compile(r"chat_panel_[a-z0-9_]+_mode")

KEY_MAX = 200
LOGIN_MAX = 100
SETTING_MAX = 32
BIGINT_MAX = 2**63 - 1  # BigInteger columns (counters, user and team ids)
INT_MAX = 2**31 - 1  # Integer columns (active-user and seat counts)
DORMANT_AFTER = timedelta(days=30)
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


# ----------------------------------------------------------------------------- org day
@dataclass
class OrgDayRows:
    """Rows of one organization-day. ``usage`` is the copilot_usage_daily row without
    ``source_report``/``fetched_at``; the four lists are the breakdown tables' rows."""

    usage: dict[str, Any]
    languages: list[dict[str, Any]] = field(default_factory=list)
    editors: list[dict[str, Any]] = field(default_factory=list)
    models: list[dict[str, Any]] = field(default_factory=list)
    features: list[dict[str, Any]] = field(default_factory=list)


def _breakdown(day: date, items: list[Mapping[str, Any]], src_key: str, column: str,
               where: str) -> list[dict[str, Any]]:
    """Aggregate breakdown elements by their key (counters summed), one row per key, sorted by key."""
    rows: dict[str, dict[str, Any]] = {}
    for i, item in enumerate(items):
        key = _text(item.get(src_key), f"{where}[{i}].{src_key}", KEY_MAX, default=UNKNOWN_KEY)
        row = rows.setdefault(key, {"day": day, column: key, **dict.fromkeys(COUNTERS, 0)})
        for counter in COUNTERS:
            row[counter] += _count(item.get(counter), f"{where}[{i}].{counter}")
    return [_with_rate(rows[k], where) for k in sorted(rows)]


def parse_org_day(record: dict, default_day: date | None = None) -> OrgDayRows:
    """One aggregate day object (``organization-1-day`` file line, or one ``day_totals[]`` item of the
    28-day file) → rows for copilot_usage_daily and the language/editor/model/feature breakdowns. A record
    without ``day`` is ``default_day`` (the day a 1-day report was asked for), when given.

    Mapping:

    - usage counters and active-user counts: the top-level fields of the same names.
    - ``chat_interactions``: the sum of the top-level ``chat_panel_*_mode`` fields when any is present;
      otherwise the sum of ``user_initiated_interaction_count`` over ``totals_by_feature`` rows whose
      ``feature`` starts with ``chat`` (``chat_panel_*_mode``, ``chat_inline``).
    - ``agent_interactions``: agent-mode chat interactions (top-level ``chat_panel_agent_mode``, or the
      ``chat_panel_agent_mode`` feature's ``user_initiated_interaction_count`` when the top-level field is
      absent) **plus** the ``agent_edit`` feature's ``user_initiated_interaction_count``. Copilot CLI and
      cloud-agent activity are not counted here (they have their own fields, kept in the raw report).
    - languages: ``totals_by_language_feature`` summed per ``language``; editors: ``totals_by_ide`` per
      ``ide``; models: ``totals_by_model_feature`` summed per ``model``; features: ``totals_by_feature``
      per ``feature``. A missing/empty key becomes ``"unknown"``.
    - ``acceptance_rate`` everywhere comes from :func:`copilot_assets.metrics.acceptance_rate`.
    """
    rec = _object(record, "record")
    day = default_day if rec.get("day") is None and default_day is not None else parse_day(rec.get("day"), "day")

    usage: dict[str, Any] = {"day": day}
    for name in ACTIVE_USER_FIELDS:
        usage[name] = _int_or_none(rec.get(name), name, INT_MAX)
    for name in USAGE_COUNTERS:
        usage[name] = _count(rec.get(name), name)

    by_lang = _objects(rec.get("totals_by_language_feature"), "totals_by_language_feature")
    by_ide = _objects(rec.get("totals_by_ide"), "totals_by_ide")
    by_model = _objects(rec.get("totals_by_model_feature"), "totals_by_model_feature")
    by_feature = _objects(rec.get("totals_by_feature"), "totals_by_feature")

    languages = _breakdown(day, by_lang, "language", "language", "totals_by_language_feature")
    editors = _breakdown(day, by_ide, "ide", "editor", "totals_by_ide")
    models = _breakdown(day, by_model, "model", "model", "totals_by_model_feature")
    features = _breakdown(day, by_feature, "feature", "feature", "totals_by_feature")
    feature_interactions = {r["feature"]: r["user_initiated_interaction_count"] for r in features}

    chat_modes = {k: _int_or_none(v, k) for k, v in rec.items()
                  if isinstance(k, str) and _CHAT_MODE_RE.fullmatch(k)}
    chat_modes = {k: v for k, v in chat_modes.items() if v is not None}
    if chat_modes:
        chat = sum(chat_modes.values())
    else:
        chat = sum(n for f, n in feature_interactions.items() if f.startswith("chat"))
    agent_mode = chat_modes.get("chat_panel_agent_mode")
    if agent_mode is None:
        agent_mode = feature_interactions.get("chat_panel_agent_mode", 0)
    usage["chat_interactions"] = chat
    usage["agent_interactions"] = agent_mode + feature_interactions.get("agent_edit", 0)
    _with_rate(usage, "record")
    return OrgDayRows(usage=usage, languages=languages, editors=editors, models=models, features=features)


def parse_org_28_day(records: list[dict], skipped: Counter[str] | None = None) -> dict[date, OrgDayRows]:
    """The ``organization-28-day`` file object(s) → ``{day: OrgDayRows}``, one entry per ``day_totals[]``
    item. Several objects (shards) are merged; a day present twice keeps the last one. An object that has
    no ``day_totals`` but a ``day`` is taken as one day object itself. A ``day_totals`` item without a
    ``day`` cannot be placed: it is skipped and counted in ``skipped``."""
    days: dict[date, OrgDayRows] = {}
    for i, obj in enumerate(_objects(records, "records")):
        if "day_totals" in obj:
            items = _objects(obj.get("day_totals"), f"records[{i}].day_totals")
        elif "day" in obj:
            items = [obj]
        else:
            raise _malformed(f"records[{i}]: a 28-day report object needs day_totals")
        for item in items:
            if item.get("day") is None:
                if skipped is not None:
                    skipped["day_totals item without day"] += 1
                continue
            rows = parse_org_day(item)  # type: ignore[arg-type]
            days[rows.usage["day"]] = rows
    return dict(sorted(days.items()))


# ----------------------------------------------------------------------------- users ⋈ teams
def _records_of(records: Any, where: str) -> list[Any]:
    """The list of records of a report; a report that is not a list is malformed as a whole."""
    if records is None:
        return []
    if not isinstance(records, list):
        raise _malformed(f"{where}: expected a list of objects, got {type(records).__name__}")
    return records


def _record_day(rec: Mapping[str, Any], day: date, where: str) -> date:
    """A record's ``day``; a record without one belongs to the report's day (every field is optional)."""
    value = rec.get("day")
    return day if value is None else parse_day(value, f"{where}.day")


def _skip_reason(exc: MalformedReport) -> str:
    """``user_records[3].used_chat: expected …`` → ``malformed used_chat: expected …`` (one bucket per cause)."""
    text = str(exc.message)
    head, _, tail = text.partition(": ")
    return f"malformed {head.rsplit('.', 1)[-1]}: {tail}"[:120]


def join_users_teams(
    user_records: list[dict],
    team_records: list[dict],
    day: date,
    min_team_size: int = 5,
    skipped: Counter[str] | None = None,
) -> tuple[list[dict], list[dict]]:
    """``users-1-day`` (or one day of ``users-28-day``) records joined with ``user-teams-1-day`` records of
    the same day (GitHub's team-level recipe, reference §1.9) → (copilot_user_daily rows,
    copilot_github_team_daily rows).

    - Only records of ``day`` are used, on both sides (a record without ``day`` belongs to the report's
      day), so a membership snapshot is never joined with another day's usage.
    - Lenient, as GitHub documents every field as optional: a user record without ``user_login`` is kept
      by ``user_id`` (login NULL); one without ``user_id`` takes the id the day's user-teams records give
      its login, else it is skipped; a record with a field of the wrong type is skipped. Skipped records
      are counted in ``skipped`` by cause and the day still stores — unless every record of the day is
      malformed, which raises :class:`MalformedReport` (the report itself is broken). Membership records
      without ``user_id``/``team_id`` are skipped and counted; a team without ``slug`` is ``team-<id>``.
    - Duplicate user records for the same user-day: the **last one wins** (a re-delivered shard repeats
      lines; summing would double count).
    - ``engaged``: ``user_initiated_interaction_count > 0`` or ``code_acceptance_activity_count > 0``.
      ``used_chat``/``used_agent``/``used_cli``: GitHub's booleans (missing → False).
    - Per GitHub team (inner join on ``user_id``): ``active_users`` = distinct users, ``engaged_users``,
      summed counters, acceptance rate, ``below_threshold = active_users < min_team_size``. Teams below the
      threshold are kept and flagged, never dropped; a user in several teams counts in each one. A team
      whose members have no usage record that day has no row. A slug that changes keeps the last one.
    """
    skips: Counter[str] = skipped if skipped is not None else Counter()
    users_in = _records_of(user_records, "user_records")
    teams_in = _records_of(team_records, "team_records")

    memberships: list[tuple[int, int, str]] = []  # (user_id, team_id, slug)
    login_ids: dict[str, int] = {}
    for i, rec in enumerate(teams_in):
        where = f"team_records[{i}]"
        try:
            rec = _object(rec, where)
            if _record_day(rec, day, where) != day:
                continue
            user_id = _int_or_none(rec.get("user_id"), f"{where}.user_id")
            team_id = _int_or_none(rec.get("team_id"), f"{where}.team_id")
            if user_id is None or team_id is None:
                skips["user-teams record without user_id or team_id"] += 1
                continue
            slug = _opt_text(rec.get("slug"), f"{where}.slug", KEY_MAX) or f"team-{team_id}"
            login = _opt_text(rec.get("user_login"), f"{where}.user_login", LOGIN_MAX)
        except MalformedReport as exc:
            skips[f"user-teams {_skip_reason(exc)}"] += 1
            continue
        memberships.append((user_id, team_id, slug))
        if login:
            login_ids[login.lower()] = user_id

    users: dict[int, dict[str, Any]] = {}
    malformed: MalformedReport | None = None
    seen = n_malformed = 0
    for i, rec in enumerate(users_in):
        where = f"user_records[{i}]"
        try:
            rec = _object(rec, where)
            if _record_day(rec, day, where) != day:
                continue
        except MalformedReport as exc:  # not even its day can be read: it counts against this day
            seen += 1
            malformed, n_malformed = malformed or exc, n_malformed + 1
            skips[_skip_reason(exc)] += 1
            continue
        seen += 1
        try:
            login = _opt_text(rec.get("user_login"), f"{where}.user_login", LOGIN_MAX)
            user_id = _int_or_none(rec.get("user_id"), f"{where}.user_id")
            if user_id is None:
                user_id = login_ids.get(login.lower()) if login else None
                if user_id is None:
                    skips["user record without user_id" + (" (login unknown to user-teams)" if login else
                                                           " or user_login")] += 1
                    continue
            row: dict[str, Any] = {"day": day, "user_id": user_id, "user_login": login}
            for counter in COUNTERS:
                row[counter] = _count(rec.get(counter), f"{where}.{counter}")
            for flag in ("used_chat", "used_agent", "used_cli"):
                row[flag] = _bool(rec.get(flag), f"{where}.{flag}")
        except MalformedReport as exc:
            malformed, n_malformed = malformed or exc, n_malformed + 1
            skips[_skip_reason(exc)] += 1
            continue
        row["engaged"] = row["user_initiated_interaction_count"] > 0 or row["code_acceptance_activity_count"] > 0
        row["github_team_count"] = 0
        users.pop(user_id, None)  # last wins, in the position of the last record
        users[user_id] = row
    if malformed is not None and n_malformed == seen:
        raise malformed  # every record of the day is malformed: the report is broken, not one record

    slugs: dict[int, str] = {}
    members: dict[int, set[int]] = {}
    for user_id, team_id, slug in memberships:
        slugs[team_id] = slug
        if user_id in users:
            members.setdefault(team_id, set()).add(user_id)

    team_rows: list[dict[str, Any]] = []
    for team_id in sorted(members):
        ids = members[team_id]
        team_row: dict[str, Any] = {
            "day": day,
            "github_team_id": team_id,
            "github_team_slug": slugs[team_id],
            "active_users": len(ids),
            "engaged_users": sum(1 for u in ids if users[u]["engaged"]),
        }
        for counter in COUNTERS:
            team_row[counter] = sum(users[u][counter] for u in ids)
        _with_rate(team_row, f"github team {team_id}")
        team_row["below_threshold"] = len(ids) < min_team_size
        team_rows.append(team_row)
        for u in ids:
            users[u]["github_team_count"] += 1

    user_rows = [users[u] for u in sorted(users)]
    return user_rows, team_rows


# ----------------------------------------------------------------------------- seats
def _seat_identity(seat: Mapping[str, Any], index: int, where: str) -> tuple[str, Any]:
    assignee = seat.get("assignee")
    if assignee is None:
        return ("seat", index)
    assignee = _object(assignee, f"{where}.assignee")
    assignee_id = assignee.get("id")
    if isinstance(assignee_id, int) and not isinstance(assignee_id, bool):
        return ("id", assignee_id)
    login = assignee.get("login") if assignee.get("login") is not None else assignee.get("slug")
    if isinstance(login, str) and login:
        return ("login", login.lower())
    return ("seat", index)


def parse_seats(billing: dict, seats: list[dict], snapshot_at: datetime, day: date) -> dict:
    """``GET /orgs/{org}/copilot/billing`` + all pages of ``/copilot/billing/seats`` → one
    copilot_seat_snapshots row (without team_id).

    - ``total_seats`` etc. come from ``billing.seat_breakdown`` (``total``, ``active_this_cycle``,
      ``inactive_this_cycle``, ``pending_invitation``, ``pending_cancellation``, ``added_this_cycle``); a
      missing count is 0, except a missing ``total`` which falls back to ``listed_seats``.
    - Seats are de-duplicated by assignee id (else login; pages can repeat rows); the last one wins.
      ``listed_seats`` is the de-duplicated count.
    - ``never_used``: seats without ``last_activity_at``. GitHub also clears ``last_activity_at`` after 90
      days without activity (and needs IDE telemetry to set it), so "never used" really means "never used,
      or idle for 90+ days, or telemetry off".
    - ``dormant_30d``: last activity more than 30 days before ``snapshot_at``.
    - ``plan_type``: billing's ``plan_type``, else the most common seat ``plan_type``, else None.
    - Timestamps with offsets (``-06:00``) are parsed as aware datetimes; naive ones are taken as UTC.
    """
    bill = _object(billing, "billing")
    breakdown = _object(bill.get("seat_breakdown"), "billing.seat_breakdown")
    snapshot = to_utc(snapshot_at)

    unique: dict[tuple[str, Any], Mapping[str, Any]] = {}
    for i, seat in enumerate(_objects(seats, "seats")):
        unique[_seat_identity(seat, i, f"seats[{i}]")] = seat

    never_used = dormant = 0
    plans: Counter[str] = Counter()
    for key, seat in unique.items():
        where = f"seat {key[0]}={key[1]}"
        last = parse_timestamp(seat.get("last_activity_at"), f"{where}.last_activity_at")
        if last is None:
            never_used += 1
        elif snapshot - last > DORMANT_AFTER:
            dormant += 1
        plan = _opt_text(seat.get("plan_type"), f"{where}.plan_type", SETTING_MAX)
        if plan:
            plans[plan] += 1

    def breakdown_count(name: str) -> int | None:
        return _int_or_none(breakdown.get(name), f"billing.seat_breakdown.{name}", INT_MAX)

    total = breakdown_count("total")
    plan_type = _opt_text(bill.get("plan_type"), "billing.plan_type", SETTING_MAX)
    if plan_type is None and plans:
        plan_type = plans.most_common(1)[0][0]
    return {
        "day": day,
        "snapshot_at": snapshot,
        "total_seats": len(unique) if total is None else total,
        "active_seats": breakdown_count("active_this_cycle") or 0,
        "inactive_seats": breakdown_count("inactive_this_cycle") or 0,
        "pending_invitation": breakdown_count("pending_invitation") or 0,
        "pending_cancellation": breakdown_count("pending_cancellation") or 0,
        "added_this_cycle": breakdown_count("added_this_cycle") or 0,
        "never_used": never_used,
        "dormant_30d": dormant,
        "listed_seats": len(unique),
        "plan_type": plan_type,
        "seat_management_setting": _opt_text(bill.get("seat_management_setting"),
                                             "billing.seat_management_setting", SETTING_MAX),
    }


__all__ = [
    "COUNTERS",
    "DAY_FMT",
    "USAGE_COUNTERS",
    "OrgDayRows",
    "format_day",
    "join_users_teams",
    "parse_day",
    "parse_org_28_day",
    "parse_org_day",
    "parse_seats",
    "parse_timestamp",
    "to_utc",
]
