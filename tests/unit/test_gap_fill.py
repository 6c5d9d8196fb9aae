"""The nightly detects missing team-days in the last 28 days and asks for a gap-fill run per team."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg

from copilot_assets import status as sm
from copilot_assets.automation import copilot_nightly_sync
from copilot_assets.gaps import missing_days
from copilot_assets.team_health import apply_event
from resources.app_store import StoreResource
from resources.flags import COPILOT_FLAG

TICK = datetime(2026, 11, 23, 4, 45, tzinfo=UTC)


def _usage_row(day):
    return {"daily_active_users": 3, "source_report": "organization-1-day", "fetched_at": TICK}


def test_missing_days_and_gapfill_requests(sqlite_store):
    s = sqlite_store
    teams = {}
    for slug in ("a", "b"):
        t = s.add_team(slug, name=slug.upper(), github_org=f"org-{slug}")
        apply_event(s, t, sm.Connected(at=TICK), actor="test")
        teams[slug] = t
    s.set_flag(COPILOT_FLAG, True)
    end = TICK.date() - timedelta(days=1)
    start = end - timedelta(days=27)
    holes = {start + timedelta(days=3), start + timedelta(days=10), start + timedelta(days=11)}
    for i in range(28):
        day = start + timedelta(days=i)
        s.replace_team_day(teams["b"].id, day, {"copilot_usage_daily": [_usage_row(day)]})
        if day not in holes:
            s.replace_team_day(teams["a"].id, day, {"copilot_usage_daily": [_usage_row(day)]})
    # a day GitHub answered 204 for is observed, not missing
    s.replace_team_day(teams["a"].id, start + timedelta(days=11), {"copilot_usage_daily": []})
    s.record_observation(teams["a"].id, start + timedelta(days=11), "organization-1-day", "no_report")

    with s.engine.connect() as conn:
        gaps = missing_days(conn, [teams["a"].id, teams["b"].id], start, end)
    assert gaps == {teams["a"].id: sorted(holes - {start + timedelta(days=11)})}

    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("teams", ["a", "b"])
        ctx = dg.build_schedule_context(instance=instance, scheduled_execution_time=TICK,
                                        resources={"store": StoreResource(database_url=s.url)})
        requests = list(copilot_nightly_sync(ctx))
    nightly = [r for r in requests if r.tags["copilot/trigger"] == "nightly"]
    gapfill = [r for r in requests if r.tags["copilot/trigger"] == "gapfill"]
    assert [(r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
            for r in nightly] == [(f"{TICK.date() - timedelta(days=3)}|a", f"{end}|b")]
    assert len(gapfill) == 1
    g = gapfill[0]
    assert g.tags["dagster/asset_partition_range_start"] == f"{start + timedelta(days=3)}|a"
    assert g.tags["dagster/asset_partition_range_end"] == f"{start + timedelta(days=10)}|a"
    assert g.tags["copilot/team"] == "a"
    assert {k.to_user_string() for k in g.asset_selection} == {"copilot_usage", "copilot_user_usage"}
