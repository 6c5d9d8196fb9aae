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


def raw_report_days(conn: sa.Connection, team_id: int, start: date, end: date) -> list[date]:
    """The days of [start, end] the team has raw reports for, oldest first."""
    return sorted(days_with_rows(conn, tables.copilot_raw_reports, team_id, start, end))


def raw_reports_of_day(conn: sa.Connection, team_id: int, day: date) -> dict[str, dict[str, Any]]:
    """``report → {"fetched_at", "payload"}`` of the team's raw reports of one day (payload: the JSON text)."""
    rows = team_rows(conn, tables.copilot_raw_reports, team_id, day, day, ["report", "fetched_at", "payload"])
    return {r["report"]: {"fetched_at": r["fetched_at"], "payload": r["payload"]} for r in rows}


def daily_sums(conn: sa.Connection, table: sa.Table | str, team_id: int, columns: Sequence[str], start: date,
               end: date) -> dict[date, dict[str, Any]]:
    """``day → {column: SUM(column)}`` of one team's rows (SQL SUM: null when every row's value is null, so
    "GitHub did not say" stays null). Only for summable columns (counters, credits), never distinct counts."""
    t = _table(table)
    q = (team_select(t, team_id, ["day"], start, end).order_by(None)
         .add_columns(*(sa.func.sum(t.c[c]).label(c) for c in columns)).group_by(t.c.day))
    return {_day(r["day"]): {c: r[c] for c in columns} for r in conn.execute(q).mappings()}


def ai_credits_month_to_date(conn: sa.Connection, team_id: int, day: date) -> float | None:
    """AI credits the team's users used from the first of ``day``'s month through ``day`` (a sum over users and
    days: credits add up); None when GitHub reported none (before 2026-06-19, or no per-user data)."""
    sums = daily_sums(conn, tables.copilot_user_daily, team_id, ["ai_credits_used"], day.replace(day=1), day)
    values = [v["ai_credits_used"] for v in sums.values() if v["ai_credits_used"] is not None]
    return float(sum(values)) if values else None


def insights_all_teams(conn: sa.Connection) -> list[dict[str, Any]]:
    """Every stored insight with what its grounding check needs (the asset check sees every team)."""
    i = tables.insights
    q = sa.select(i.c.team_id, i.c.day, i.c.headline, i.c.detail, i.c.recommendation, i.c.actions,
                  i.c.cited_numbers, i.c.facts)
    return [dict(r) for r in conn.execute(q).mappings()]


def usage_totals_all_teams(conn: sa.Connection, start: date, end: date) -> dict[int, dict[str, Any]]:
    """Per team (the org overview sees every team): days with usage, mean daily active users, summed code
    generations and acceptances over [start, end]."""
    u = tables.copilot_usage_daily
    q = (sa.select(u.c.team_id, sa.func.count(), sa.func.avg(u.c.daily_active_users),
                   sa.func.sum(u.c.code_generation_activity_count), sa.func.sum(u.c.code_acceptance_activity_count))
         .where(u.c.day.between(start, end)).group_by(u.c.team_id))
    return {int(tid): {"days": int(n), "dau_avg": float(avg) if avg is not None else None,
                       "generations": int(gen or 0), "acceptances": int(acc or 0)}
            for tid, n, avg, gen, acc in conn.execute(q)}


def latest_seats_all_teams(conn: sa.Connection, on_or_before: date) -> dict[int, dict[str, Any]]:
    """Per team, its latest seat snapshot on or before a day (the org overview sees every team)."""
    s = tables.copilot_seat_snapshots
    latest = (sa.select(s.c.team_id, sa.func.max(s.c.day).label("day")).where(s.c.day <= on_or_before)
              .group_by(s.c.team_id).subquery())
    q = sa.select(s.c.team_id, s.c.day, s.c.total_seats, s.c.active_seats, s.c.never_used, s.c.dormant_30d).join(
        latest, sa.and_(s.c.team_id == latest.c.team_id, s.c.day == latest.c.day))
    return {int(r.team_id): dict(r._mapping) for r in conn.execute(q)}


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
    "ai_credits_month_to_date",
    "column_per_team_day",
    "confirmed_empty_all_teams",
    "count_team_rows",
    "daily_sums",
    "days_with_rows",
    "insights_all_teams",
    "last_status_event_id_all_teams",
    "latest_seats_all_teams",
    "latest_team_row",
    "raw_report_days",
    "raw_reports_of_day",
    "rows_per_team_day",
    "status_changes_all_teams",
    "team_rows",
    "team_select",
    "usage_totals_all_teams",
]
