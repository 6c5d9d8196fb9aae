"""Asset checks over what a run synced: each looks at the run's teams (or team-days) and can fail on real
problems — never on what the schema already guarantees (primary keys, CHECK constraints).

- ``copilot_usage``: ``fresh_last_3_days`` (each team of the run has data for the settled day D-3; the
  newer two days may still be "no report yet") and ``coverage_28d`` (no gap older than the nightly window:
  every day of D-28..D-4 has data or was confirmed empty; the nightly's gap fill closes the rest).
- ``copilot_user_usage``: ``users_match_active_users`` (per team-day of the run, the per-user rows agree
  with the aggregate report's daily active users within ``USER_COUNT_TOLERANCE``).
- ``copilot_seats``: ``seat_snapshot_yesterday`` (each team of the run whose run covered yesterday has a
  seat snapshot for it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from copilot_assets.metrics import NIGHTLY_WINDOW_DAYS, WINDOW_DAYS
from copilot_assets.partitions import TeamDay
from resources import queries
from resources.store import Store

COVERAGE_DAYS = WINDOW_DAYS
USER_COUNT_TOLERANCE = 0.05
"""Per-user rows may differ from ``daily_active_users`` by this share (at least one user): GitHub counts some
users in the aggregate only (server-side-only activity since 2026-06-15, the Copilot app since 2026-07-28)
and a user without IDE telemetry may be missing from one side. More than that means a report was cut short
(a dropped shard) or belongs to another day."""

CHECK_FRESH = "fresh_last_3_days"
CHECK_COVERAGE = "coverage_28d"
CHECK_USERS = "users_match_active_users"
CHECK_SEATS = "seat_snapshot_yesterday"

USAGE_CHECK_SPECS = [
    dg.AssetCheckSpec(CHECK_FRESH, asset="copilot_usage",
                      description="Each team of the run has usage data for D-3, the day GitHub has settled "
                      "(D-2 and D-1 may still answer 'no report yet')."),
    dg.AssetCheckSpec(CHECK_COVERAGE, asset="copilot_usage",
                      description="Each team of the run has data, or a confirmed-empty record, for every day of "
                      "D-28..D-4; a missing day is re-fetched by the nightly's gap fill."),
]
USER_USAGE_CHECK_SPECS = [
    dg.AssetCheckSpec(CHECK_USERS, asset="copilot_user_usage",
                      description="For each team-day of the run, per-user rows agree with the aggregate report's "
                      f"daily active users within {USER_COUNT_TOLERANCE:.0%} (at least one user)."),
]
SEATS_CHECK_SPECS = [
    dg.AssetCheckSpec(CHECK_SEATS, asset="copilot_seats",
                      description="Each team whose run covered yesterday has a seat snapshot for yesterday."),
]


def _today(now: datetime | None) -> date:
    return (now or datetime.now(UTC)).date()


def _team_ids(store: Store, team_days: Sequence[TeamDay]) -> dict[str, int]:
    teams = store.teams_by_slug({td.team for td in team_days})
    return {slug: t.id for slug, t in sorted(teams.items())}


def usage_check_results(store: Store, team_days: Sequence[TeamDay], now: datetime | None = None
                        ) -> list[dg.AssetCheckResult]:
    today = _today(now)
    ids = _team_ids(store, team_days)
    settled = today - timedelta(days=NIGHTLY_WINDOW_DAYS)
    start = today - timedelta(days=COVERAGE_DAYS)
    states = store.day_states(ids.values(), ["copilot_usage"], start, today - timedelta(days=1))
    latest_data: dict[int, date] = {}  # team id → its latest day with data (one pass: runs hold 250 teams)
    for (t, _, d), s in states.items():
        if s == "data" and (t not in latest_data or d > latest_data[t]):
            latest_data[t] = d
    fresh_md: dict[str, object] = {}
    stale = []
    for slug, tid in ids.items():
        latest = latest_data.get(tid)
        fresh_md[f"latest_{slug}"] = latest.isoformat() if latest else "none"
        if latest is None or latest < settled:
            stale.append(slug)
    gaps: dict[str, list[str]] = {}
    older = [start + timedelta(days=i) for i in range((settled - start).days)]  # D-28..D-4
    for slug, tid in ids.items():
        missing = [d.isoformat() for d in older if states.get((tid, "copilot_usage", d)) not in
                   ("data", "confirmed_empty")]
        if missing:
            gaps[slug] = missing
    cov_md: dict[str, object] = {f"coverage_{slug}": f"{len(older) - len(gaps.get(slug, []))}/{len(older)}"
                                 for slug in ids}
    cov_md["teams_with_gaps"] = len(gaps)
    if gaps:
        cov_md["gaps"] = dg.MetadataValue.json({k: v[:10] for k, v in gaps.items()})
    return [
        dg.AssetCheckResult(check_name=CHECK_FRESH, passed=not stale, severity=dg.AssetCheckSeverity.WARN,
                            metadata={**fresh_md, "stale_teams": ", ".join(stale) or "none",
                                      "settled_day": settled.isoformat()}),
        dg.AssetCheckResult(check_name=CHECK_COVERAGE, passed=not gaps, severity=dg.AssetCheckSeverity.WARN,
                            metadata=cov_md),
    ]


def user_usage_check_results(store: Store, team_days: Sequence[TeamDay]) -> list[dg.AssetCheckResult]:
    ids = _team_ids(store, team_days)
    if not team_days:
        return [dg.AssetCheckResult(check_name=CHECK_USERS, passed=True, metadata={"team_days_checked": 0})]
    start, end = min(td.day for td in team_days), max(td.day for td in team_days)
    wanted = {(ids[td.team], td.day) for td in team_days if td.team in ids}
    with store.engine.connect() as conn:
        dau = queries.column_per_team_day(conn, "copilot_usage_daily", "daily_active_users", ids.values(), start, end)
        users = queries.rows_per_team_day(conn, "copilot_user_daily", ids.values(), start, end)
    states = store.day_states(ids.values(), ["copilot_user_usage"], start, end)
    slug_of = {tid: slug for slug, tid in ids.items()}
    checked = 0
    off: list[str] = []
    for tid, day in sorted(wanted):
        active = dau.get((tid, day))
        if active is None or states.get((tid, "copilot_user_usage", day)) != "data":
            continue  # one side has no report (yet): nothing to reconcile
        checked += 1
        rows = users.get((tid, day), 0)
        tolerance = max(1, math.ceil(active * USER_COUNT_TOLERANCE))
        if abs(rows - active) > tolerance:
            off.append(f"{slug_of[tid]} {day}: {rows} user rows, {active} daily active users")
    return [dg.AssetCheckResult(
        check_name=CHECK_USERS, passed=not off, severity=dg.AssetCheckSeverity.ERROR,
        metadata={"team_days_checked": checked, "mismatches": len(off),
                  "mismatched_team_days": "; ".join(off[:20]) or "none"})]


def seats_check_results(store: Store, team_days: Sequence[TeamDay], now: datetime | None = None
                        ) -> list[dg.AssetCheckResult]:
    yesterday = _today(now) - timedelta(days=1)
    covered = sorted({td.team for td in team_days if td.day >= yesterday})
    if not covered:
        return [dg.AssetCheckResult(check_name=CHECK_SEATS, passed=True,
                                    metadata={"teams_checked": 0, "note": "the run covers no day since yesterday"})]
    ids = _team_ids(store, [td for td in team_days if td.team in covered])
    with store.engine.connect() as conn:
        have = queries.rows_per_team_day(conn, "copilot_seat_snapshots", ids.values(), yesterday, yesterday)
    missing = [slug for slug, tid in ids.items() if not have.get((tid, yesterday))]
    return [dg.AssetCheckResult(
        check_name=CHECK_SEATS, passed=not missing, severity=dg.AssetCheckSeverity.WARN,
        metadata={"teams_checked": len(ids), "day": yesterday.isoformat(),
                  "teams_without_snapshot": ", ".join(missing) or "none"})]
