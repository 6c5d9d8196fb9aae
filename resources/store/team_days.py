"""Copilot data per team-day: delete-then-insert in one transaction, raw reports kept, and the state of each
synced asset's team-day (data / no_report / confirmed_empty, design decision 11)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from resources import jsonio, queries, tables
from resources.store.base import StoreBase, utcnow
from resources.store.pg_copy import copy_rows
from resources.tables import DAY_STATES, copilot_day_status, copilot_raw_reports, copilot_report_observations


@dataclass
class TeamDayWrite:
    """What one team-day's sync writes: its tables (replaced), its raw reports (replaced per report) and, for a
    synced asset, that asset's day state (``data``)."""

    day: date
    rows_by_table: Mapping[str, Sequence[Mapping[str, Any]]]
    raw_reports: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)
    day_state_of: str | None = None
    raw_fetched_at: datetime | None = None

    @property
    def rows_written(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.rows_by_table.items()}

    @property
    def size(self) -> int:
        """Rows and raw records held (what a caller bounds before writing a batch)."""
        return sum(len(r) for r in self.rows_by_table.values()) + sum(len(r) for r in self.raw_reports.values())


# the team-days' advisory locks, in day order (why: pg_lock_and_delete), with pg_lock_params
PG_LOCKS = "SELECT pg_advisory_xact_lock(%(team_id)s, d) FROM unnest(%(ords)s) AS d ORDER BY d"


def pg_lock_params(team_id: int, days: Sequence[date]) -> dict[str, Any]:
    return {"team_id": int(team_id), "ords": sorted(d.toordinal() for d in days)}


def pg_lock_and_delete(conn: Connection, team_id: int, days: Sequence[date],
                       by_table: Mapping[str, Sequence[TeamDayWrite]],
                       by_report: Mapping[str, Sequence[TeamDayWrite]]) -> None:
    """PostgreSQL with psycopg2: the team-days' advisory locks, then the DELETE of each table's and raw report's
    rows of those days, sent as ONE statement string (one round trip and no statement built per table; issue
    20; a driver that binds parameters server-side, as psycopg 3 does, cannot take several statements).

    The locks: two writers of the same team-day at once — under READ COMMITTED the second one's DELETE cannot
    see the first one's freshly inserted rows and its INSERT then violates the primary key. Writers are
    serialized per team-day (SQLite already serializes all writers), the locks taken in day order so two
    batches never wait on each other in a cycle."""
    quote = conn.dialect.identifier_preparer.format_table
    params = pg_lock_params(team_id, days)
    sql = [PG_LOCKS]
    for i, (name, ws) in enumerate(by_table.items()):
        params[f"d{i}"] = [w.day for w in ws]
        sql.append(f"DELETE FROM {quote(tables.TEAM_DAY_TABLES[name])} WHERE team_id = %(team_id)s "
                   f"AND day = ANY(%(d{i})s)")
    for i, (report, ws) in enumerate(by_report.items()):
        params[f"r{i}"], params[f"rd{i}"] = report, [w.day for w in ws]
        sql.append(f"DELETE FROM {quote(copilot_raw_reports)} WHERE team_id = %(team_id)s "
                   f"AND report = %(r{i})s AND day = ANY(%(rd{i})s)")
    conn.exec_driver_sql(";\n".join(sql), params)


class TeamDaysMixin(StoreBase):
    def replace_team_day(
        self,
        team_id: int,
        day: date,
        rows_by_table: Mapping[str, Sequence[Mapping[str, Any]]],
        *,
        raw_reports: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
        day_state_of: str | None = None,
        run_id: str | None = None,
        raw_fetched_at: datetime | None = None,
    ) -> dict[str, int]:
        """Delete-then-insert the given tables for one team-day in one transaction.

        Only the tables named in ``rows_by_table`` are replaced (and only the raw reports named in
        ``raw_reports``, stored as fetched at ``raw_fetched_at``, default now: a fetcher passes the time it
        stamped its rows with, so a re-derive of the raw copy stamps the same). ``day_state_of`` (a synced
        asset's name) records, in the same transaction, that this asset's team-day now has data. Returns rows
        written per table.
        """
        write = TeamDayWrite(day, rows_by_table, raw_reports or {}, day_state_of, raw_fetched_at)
        return self.replace_team_days(team_id, [write], run_id=run_id)[0]

    def replace_team_days(self, team_id: int, writes: Sequence[TeamDayWrite], *,
                          run_id: str | None = None) -> list[dict[str, int]]:
        """``replace_team_day`` for several days of one team in ONE transaction: per table one DELETE of those
        days and one multi-row INSERT, instead of one of each per day (a nightly writes 3 days per team; issue
        20). On PostgreSQL the DELETEs go as one statement string (``pg_lock_and_delete``) and the rows by
        ``COPY`` (``resources/store/pg_copy.py``). All or nothing: a caller that must isolate a bad day writes
        the days one by one after a failure. Returns rows written per table, per write."""
        if not writes:
            return []
        days = [w.day for w in writes]
        if len(set(days)) != len(days):
            raise ValueError(f"replace_team_days: a day appears twice in one batch: {sorted(days)}")
        now = utcnow()
        by_table: dict[str, list[TeamDayWrite]] = defaultdict(list)
        by_report: dict[str, list[TeamDayWrite]] = defaultdict(list)
        for w in writes:
            for name in w.rows_by_table:
                by_table[name].append(w)
            for report in w.raw_reports:
                by_report[report].append(w)
        raw = copilot_raw_reports
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg2":
                pg_lock_and_delete(conn, team_id, days, by_table, by_report)
            else:
                if conn.dialect.name == "postgresql":  # another driver: the same locks, one statement each
                    conn.exec_driver_sql(PG_LOCKS, pg_lock_params(team_id, days))
                for name, ws in by_table.items():
                    table = tables.TEAM_DAY_TABLES[name]
                    conn.execute(table.delete().where(table.c.team_id == team_id,
                                                      table.c.day.in_([w.day for w in ws])))
                for report, ws in by_report.items():
                    conn.execute(raw.delete().where(raw.c.team_id == team_id, raw.c.report == report,
                                                    raw.c.day.in_([w.day for w in ws])))
            for name, ws in by_table.items():
                table = tables.TEAM_DAY_TABLES[name]
                rows = [{**r, "team_id": team_id, "day": w.day} for w in ws for r in w.rows_by_table[name]]
                if rows and not copy_rows(conn, table, rows):
                    conn.execute(table.insert(), rows)
            for report, ws in by_report.items():
                raw_rows = [
                    {"team_id": team_id, "day": w.day, "report": report, "fetched_at": w.raw_fetched_at or now,
                     "record_count": len(w.raw_reports[report]), "payload": jsonio.dumps(list(w.raw_reports[report]))}
                    for w in ws]
                if not copy_rows(conn, raw, raw_rows):
                    conn.execute(raw.insert(), raw_rows)
            self._set_data_states(conn, team_id, [(w.day, w.day_state_of) for w in writes if w.day_state_of],
                                  now, run_id)
        return [w.rows_written for w in writes]

    def _set_data_states(self, conn: Connection, team_id: int, day_assets: Sequence[tuple[date, str]],
                         now: datetime, run_id: str | None) -> None:
        """These (day, asset) team-days now have data: one UPDATE of the stored states, one INSERT of the new."""
        if not day_assets:
            return
        s = copilot_day_status
        have = {(r.day if isinstance(r.day, date) else date.fromisoformat(str(r.day)), str(r.asset))
                for r in conn.execute(sa.select(s.c.day, s.c.asset).where(
                    s.c.team_id == team_id, s.c.day.in_([d for d, _ in day_assets]),
                    s.c.asset.in_(sorted({a for _, a in day_assets}))))}
        values = {"state": "data", "reason": None, "last_checked_at": now, "run_id": run_id}
        old = [(d, a) for d, a in day_assets if (d, a) in have]
        new = [(d, a) for d, a in day_assets if (d, a) not in have]
        if old:
            conn.execute(
                s.update().where(s.c.team_id == team_id, s.c.day == sa.bindparam("b_day"),
                                 s.c.asset == sa.bindparam("b_asset")).values(**values),
                [{"b_day": d, "b_asset": a} for d, a in old])
        if new:
            conn.execute(s.insert(), [{"team_id": team_id, "day": d, "asset": a, "first_checked_at": now,
                                       "no_report_checks": 0, **values} for d, a in new])

    def _day_state_row(self, conn: Connection, team_id: int, day: date, asset: str) -> Any:
        s = copilot_day_status
        return conn.execute(sa.select(s).where(s.c.team_id == team_id, s.c.day == day, s.c.asset == asset)
                            ).first()

    def _set_day_state(self, conn: Connection, team_id: int, day: date, asset: str, state: str,
                       reason: str | None, now: datetime, run_id: str | None, *, checks: int = 0) -> None:
        if state not in DAY_STATES:
            raise ValueError(f"unknown day state {state!r}; expected one of {DAY_STATES}")
        s = copilot_day_status
        where = (s.c.team_id == team_id, s.c.day == day, s.c.asset == asset)
        values = {"state": state, "reason": reason, "last_checked_at": now, "run_id": run_id}
        if conn.execute(s.update().where(*where).values(**values, no_report_checks=s.c.no_report_checks + checks)
                        ).rowcount == 0:
            conn.execute(s.insert().values(team_id=team_id, day=day, asset=asset, first_checked_at=now,
                                           no_report_checks=checks, **values))

    def record_no_report(self, team_id: int, day: date, asset: str, report: str, why: str,
                         run_id: str | None = None) -> str:
        """GitHub had no report for this team-day yet (204, 404, an empty report). Logged as an observation;
        the day's state becomes ``no_report`` (re-fetched by the nightly inside the gap horizon) unless it
        already has data — stored rows are never replaced by a later "no report" (docs/architecture.md
        decision 8) — or was confirmed empty. Returns the state the team-day is in afterwards."""
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(copilot_report_observations.insert().values(
                team_id=team_id, day=day, report=report, outcome=why, observed_at=now, run_id=run_id))
            row = self._day_state_row(conn, team_id, day, asset)
            if row is not None and row.state in ("data", "confirmed_empty"):
                return str(row.state)
            self._set_day_state(conn, team_id, day, asset, "no_report", why, now, run_id, checks=1)
        return "no_report"

    def day_states(self, team_ids: Iterable[int], assets: Sequence[str], start: date, end: date
                   ) -> dict[tuple[int, str, date], str]:
        """``(team_id, asset, day) → state`` for the stored states of those teams, assets and days."""
        ids = [int(i) for i in team_ids]
        if not ids or start > end:
            return {}
        s = copilot_day_status
        out: dict[tuple[int, str, date], str] = {}
        with self.engine.connect() as conn:
            for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
                q = sa.select(s.c.team_id, s.c.asset, s.c.day, s.c.state).where(
                    s.c.team_id.in_(chunk), s.c.asset.in_(list(assets)), s.c.day.between(start, end))
                for r in conn.execute(q):
                    day = r.day if isinstance(r.day, date) else date.fromisoformat(str(r.day))
                    out[(int(r.team_id), str(r.asset), day)] = str(r.state)
        return out

    def confirm_empty_days(self, team_ids: Iterable[int], before: date, horizon_days: int) -> int:
        """Team-days still ``no_report`` that have left the gap horizon (day < ``before``) become
        ``confirmed_empty`` — once, with the reason. Returns how many were confirmed."""
        ids = [int(i) for i in team_ids]
        if not ids:
            return 0
        s = copilot_day_status
        now = utcnow()
        reason = sa.func.coalesce(s.c.reason, "no_report")
        n = 0
        with self.engine.begin() as conn:
            for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
                n += conn.execute(
                    s.update()
                    .where(s.c.team_id.in_(chunk), s.c.state == "no_report", s.c.day < before)
                    .values(state="confirmed_empty", last_checked_at=now,
                            reason=f"still no report from GitHub when the day left the {horizon_days}-day "
                                   "gap horizon; last answer: " + reason)
                ).rowcount
        return n

    def count_rows(self, table_name: str, team_id: int | None = None, day: date | None = None) -> int:
        """Rows of a table: all of them, or one team's (optionally one day's), scoped in ``resources.queries``."""
        with self.engine.connect() as conn:
            if team_id is None:
                table = tables.metadata.tables[table_name]
                return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
            return queries.count_team_rows(conn, table_name, team_id, day, day)

