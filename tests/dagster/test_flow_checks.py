"""Issue 16: the asset checks look at the run's team-days and fail on real problems (never on what the schema
guarantees): per-user rows against the day's active users, the seat snapshot of yesterday, freshness."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import sqlalchemy as sa
from flow_support import SEATS, USAGE, USER_USAGE, checks, expected_org_day, today

from copilot_assets.checks import seats_check_results, usage_check_results, user_usage_check_results
from copilot_assets.partitions import TeamDay
from resources import tables


def test_user_rows_match_active_users_and_a_cut_report_fails(flow) -> None:
    flow.add_team("acme", "acme-org", shards=2)
    day = today() - timedelta(days=1)
    result = flow.team_day("acme", day, USAGE, USER_USAGE, SEATS)
    assert result.success
    ev = checks(result)
    assert ev["users_match_active_users"].passed is True
    assert ev["users_match_active_users"].metadata["team_days_checked"].value == 1
    assert ev["seat_snapshot_yesterday"].passed is True

    # the per-user report of that day is cut short (half its rows lost): the check fails, naming the team-day
    t = tables.copilot_user_daily
    team_id = flow.teams["acme"].id
    with flow.store.engine.begin() as conn:
        ids = [r.user_id for r in conn.execute(sa.select(t.c.user_id).where(t.c.team_id == team_id,
                                                                                 t.c.day == day))]
        conn.execute(t.delete().where(t.c.team_id == team_id, t.c.user_id.in_(ids[: len(ids) // 2])))
    [res] = user_usage_check_results(flow.store, [TeamDay(day, "acme")])
    dau = expected_org_day("acme-org", day)["dau"]
    assert res.passed is False and res.severity == dg.AssetCheckSeverity.ERROR
    kept = len(ids) - len(ids) // 2
    assert res.metadata["mismatched_team_days"].value == f"acme {day}: {kept} user rows, {dau} daily active users"


def test_a_missing_seat_snapshot_and_stale_usage_fail_their_checks(flow) -> None:
    flow.add_team("acme", "acme-org")
    day = today() - timedelta(days=1)
    flow.set_org("acme", faults=[{"mode": "500", "endpoint": "billing"}])
    result = flow.team_day("acme", day, SEATS)
    assert not result.success
    ev = checks(result)
    assert ev["seat_snapshot_yesterday"].passed is False
    assert ev["seat_snapshot_yesterday"].metadata["teams_without_snapshot"].value == "acme"
    # a run of an old day does not judge yesterday's snapshot
    [old] = seats_check_results(flow.store, [TeamDay(day - timedelta(days=9), "acme")])
    assert old.passed and old.metadata["teams_checked"].value == 0

    # usage only up to D-5 is stale: GitHub has settled D-3
    flow.set_org("acme")
    stale_day = today() - timedelta(days=5)
    assert flow.team_day("acme", stale_day, USAGE).success
    fresh, coverage = usage_check_results(flow.store, [TeamDay(stale_day, "acme")])
    assert fresh.passed is False and fresh.metadata["stale_teams"].value == "acme"
    assert fresh.metadata["latest_acme"].value == stale_day.isoformat()
    assert coverage.passed is False and coverage.metadata["coverage_acme"].value == "1/25"
