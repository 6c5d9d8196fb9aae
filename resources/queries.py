"""Read queries of team data: the one place every read of the app store's Copilot tables is scoped to a team.

Writes go through ``resources.store.Store``; reads of one team's rows (insight facts, the CLI, export, asset
checks, charts) go through here, so no query of team data can forget its ``team_id`` filter:
``team_select`` is the only function that builds a select over a team-day table, and it always adds the
filter. Cross-team reads exist only where a check or an overview must see every team, and say so in
their name (``*_all_teams``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa

from resources import tables


def _table(table: sa.Table | str) -> sa.Table:
    return table if isinstance(table, sa.Table) else tables.metadata.tables[table]


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def team_select(table: sa.Table | str, team_id: int, columns: Sequence[str] | None = None,
                start: date | None = None, end: date | None = None) -> sa.Select:
    """``SELECT columns FROM table WHERE team_id = :team_id [AND day BETWEEN start AND end] ORDER BY day``."""
    t = _table(table)
    cols = [t.c[c] for c in columns] if columns else [t]
    q = sa.select(*cols).where(t.c.team_id == int(team_id))
    if start is not None:
        q = q.where(t.c.day >= start)
    if end is not None:
        q = q.where(t.c.day <= end)
    return q.order_by(t.c.day) if "day" in t.c else q


def team_rows(conn: sa.Connection, table: sa.Table | str, team_id: int, start: date | None = None,
              end: date | None = None, columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """One team's rows of a table (optionally one day range and some columns), oldest day first."""
    return [dict(r) for r in conn.execute(team_select(table, team_id, columns, start, end)).mappings()]


def latest_team_row(conn: sa.Connection, table: sa.Table | str, team_id: int, on_or_before: date | None = None,
                    columns: Sequence[str] | None = None) -> dict[str, Any] | None:
    """The team's row of the latest day (on or before ``on_or_before``), or None."""
    t = _table(table)
    q = team_select(t, team_id, columns, end=on_or_before).order_by(None).order_by(t.c.day.desc()).limit(1)
    row = conn.execute(q).mappings().first()
    return dict(row) if row is not None else None


def days_with_rows(conn: sa.Connection, table: sa.Table | str, team_id: int, start: date, end: date) -> set[date]:
    t = _table(table)
    q = team_select(t, team_id, ["day"], start, end).distinct()
    return {_day(r.day) for r in conn.execute(q)}


def count_team_rows(conn: sa.Connection, table: sa.Table | str, team_id: int, start: date | None = None,
                    end: date | None = None) -> int:
    q = team_select(table, team_id, start=start, end=end).order_by(None).subquery()
    return int(conn.execute(sa.select(sa.func.count()).select_from(q)).scalar_one())


def rows_per_team_day(conn: sa.Connection, table: sa.Table | str, team_ids: Iterable[int], start: date,
                      end: date) -> dict[tuple[int, date], int]:
    """``(team_id, day) → row count`` of a table for some teams and days (checks scoped to a run's team-days)."""
    t = _table(table)
    ids = [int(i) for i in team_ids]
    if not ids:
        return {}
    q = (sa.select(t.c.team_id, t.c.day, sa.func.count())
         .where(t.c.team_id.in_(ids), t.c.day.between(start, end))
         .group_by(t.c.team_id, t.c.day))
    return {(int(tid), _day(d)): int(n) for tid, d, n in conn.execute(q)}


def column_per_team_day(conn: sa.Connection, table: sa.Table | str, column: str, team_ids: Iterable[int],
                        start: date, end: date) -> dict[tuple[int, date], Any]:
    """``(team_id, day) → value`` of one column of a one-row-per-team-day table, for some teams and days."""
    t = _table(table)
    ids = [int(i) for i in team_ids]
    if not ids:
        return {}
    q = sa.select(t.c.team_id, t.c.day, t.c[column]).where(t.c.team_id.in_(ids), t.c.day.between(start, end))
    return {(int(tid), _day(d)): v for tid, d, v in conn.execute(q)}


def insights_all_teams(conn: sa.Connection) -> list[dict[str, Any]]:
    """Every stored insight with what its grounding check needs (the asset check sees every team)."""
    i = tables.insights
    q = sa.select(i.c.team_id, i.c.day, i.c.headline, i.c.detail, i.c.recommendation, i.c.actions,
                  i.c.cited_numbers, i.c.facts)
    return [dict(r) for r in conn.execute(q).mappings()]


def status_changes_all_teams(conn: sa.Connection, after_id: int, since: Any,
                             up_to_id: int | None = None) -> list[dict[str, Any]]:
    """Status events after ``after_id`` (up to ``up_to_id``, at or after ``since``) that changed a team's
    status, oldest first, with the team's slug: what the alerts sensor tells (it sees every team)."""
    e, t = tables.copilot_status_events, tables.teams
    q = (sa.select(e.c.id, e.c.team_id, t.c.slug, e.c.at, e.c.event, e.c.from_status, e.c.to_status, e.c.reason,
                   e.c.run_id)
         .join(t, t.c.id == e.c.team_id)
         .where(e.c.id > int(after_id), e.c.at >= since,
                sa.or_(e.c.from_status.is_(None), e.c.from_status != e.c.to_status))
         .order_by(e.c.id))
    if up_to_id is not None:
        q = q.where(e.c.id <= int(up_to_id))
    return [dict(r) for r in conn.execute(q).mappings()]


def last_status_event_id_all_teams(conn: sa.Connection) -> int:
    e = tables.copilot_status_events
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(e.c.id), 0))).scalar_one())


def confirmed_empty_all_teams(conn: sa.Connection, since: Any) -> list[dict[str, Any]]:
    """Team-days recorded as confirmed empty (no report when they left the gap horizon) at or after ``since``,
    with the team's slug, by team and day: what the alerts sensor tells."""
    d, t = tables.copilot_day_status, tables.teams
    q = (sa.select(d.c.team_id, t.c.slug, d.c.day, d.c.asset, d.c.reason, d.c.last_checked_at)
         .join(t, t.c.id == d.c.team_id)
         .where(d.c.state == "confirmed_empty", d.c.last_checked_at >= since)
         .order_by(d.c.team_id, d.c.day, d.c.asset))
    return [dict(r) for r in conn.execute(q).mappings()]


__all__ = [
    "column_per_team_day",
    "confirmed_empty_all_teams",
    "count_team_rows",
    "days_with_rows",
    "insights_all_teams",
    "last_status_event_id_all_teams",
    "latest_team_row",
    "rows_per_team_day",
    "status_changes_all_teams",
    "team_rows",
    "team_select",
]
