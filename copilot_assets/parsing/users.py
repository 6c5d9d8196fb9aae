"""users-1-day (or one day of users-28-day) joined with user-teams-1-day of the same day → per-user and
per-GitHub-team rows, leniently (GitHub documents every field as optional)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from copilot_assets.metrics import GITHUB_TEAM_MIN_USERS
from copilot_assets.parsing.scalars import (
    COUNTERS,
    KEY_MAX,
    LOGIN_MAX,
    _bool,
    _count,
    _first,
    _float_or_none,
    _int_or_none,
    _malformed,
    _object,
    _opt_bool,
    _opt_text,
    _with_rate,
    parse_day,
)
from copilot_assets.parsing.surfaces import field_names
from resources.github_errors import MalformedReport
from resources.tables import USER_SURFACE_FLAGS

PHASE_MAX = 64


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


def _of_day(records: list[Any], day: date, name: str) -> Iterator[tuple[str, Mapping[str, Any] | MalformedReport]]:
    """(where, record) for each record of ``day``; (where, the error) for one whose object or day cannot be
    read (records of other days are left out)."""
    for i, rec in enumerate(records):
        where = f"{name}[{i}]"
        try:
            obj = _object(rec, where)
            if _record_day(obj, day, where) == day:
                yield where, obj
        except MalformedReport as exc:
            yield where, exc


def _skip_reason(exc: MalformedReport) -> str:
    """``user_records[3].used_chat: expected …`` → ``malformed used_chat: expected …`` (one bucket per cause)."""
    text = str(exc.message)
    head, _, tail = text.partition(": ")
    return f"malformed {head.rsplit('.', 1)[-1]}: {tail}"[:120]


def _adoption_phase(value: Any, where: str) -> tuple[str | None, int | None]:
    """``ai_adoption_phase{phase_number, phase, version}`` → (phase, phase_number); a bare string is the
    phase; absent → (None, None)."""
    if value is None:
        return None, None
    if isinstance(value, str):
        return _opt_text(value, where, PHASE_MAX), None
    obj = _object(value, where)
    return (_opt_text(obj.get("phase"), f"{where}.phase", PHASE_MAX),
            _int_or_none(obj.get("phase_number"), f"{where}.phase_number", 1000))


def user_surface_fields(rec: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The 2026 per-user fields: the ``used_*`` flags (the cloud agent's under either name), AI credits and
    the adoption phase; ``None`` when the record does not carry them (unknown, not False or 0)."""
    out: dict[str, Any] = {}
    for column in USER_SURFACE_FLAGS:
        name, value = _first(rec, field_names(column))
        out[column] = _opt_bool(value, f"{where}.{name}")
    out["ai_credits_used"] = _float_or_none(rec.get("ai_credits_used"), f"{where}.ai_credits_used")
    out["ai_adoption_phase"], out["ai_adoption_phase_number"] = _adoption_phase(rec.get("ai_adoption_phase"),
                                                                               f"{where}.ai_adoption_phase")
    return out


def join_users_teams(
    user_records: list[dict],
    team_records: list[dict],
    day: date,
    min_team_size: int = GITHUB_TEAM_MIN_USERS,
    skipped: Counter[str] | None = None,
) -> tuple[list[dict], list[dict]]:
    """``users-1-day`` (or one day of ``users-28-day``) records joined with ``user-teams-1-day`` records of
    the same day (GitHub's team-level recipe, docs/architecture.md §6) → (copilot_user_daily rows,
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
      ``used_chat``/``used_agent``/``used_cli``: GitHub's booleans (missing → False). The 2026 fields
      (``user_surface_fields``: cloud agent under either name, code review, Copilot app, AI credits, adoption
      phase) are ``None`` when missing.
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
    for where, rec in _of_day(teams_in, day, "team_records"):
        try:
            if isinstance(rec, MalformedReport):
                raise rec
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
    for where, rec in _of_day(users_in, day, "user_records"):
        seen += 1
        if isinstance(rec, MalformedReport):  # not even its day can be read: it counts against this day
            malformed, n_malformed = malformed or rec, n_malformed + 1
            skips[_skip_reason(rec)] += 1
            continue
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
            row.update(user_surface_fields(rec, where))
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
