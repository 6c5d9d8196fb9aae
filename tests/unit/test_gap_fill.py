"""The gap finder (docs/architecture.md decision 11): missing and "no report yet" team-days of both synced
assets are re-fetched inside the horizon — only those days, in runs of consecutive days — and a day that
leaves the horizon still without a report is recorded once as confirmed empty."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import sqlalchemy as sa

from copilot_assets import status as sm
from copilot_assets.gaps import GapRun, consecutive_runs, gap_window, missing_days, plan_gap_runs
from copilot_assets.schedules import copilot_nightly_sync
from copilot_assets.team_health import apply_event
from resources import tables
from resources.app_store import StoreResource
from resources.flags import COPILOT_FLAG
from resources.secrets import Secret
from resources.sync_policy import SyncPolicyResource

TICK = datetime(2026, 11, 23, 4, 45, tzinfo=UTC)
D = TICK.date()


def _usage_row():
    return {"daily_active_users": 3, "source_report": "organization-1-day", "fetched_at": TICK}


def _connected(s, slug: str):
    t = s.add_team(slug, name=slug.upper(), github_org=f"org-{slug}")
    s.store_credential(t.id, Secret(f"tok-{slug}"), verified=True)
    apply_event(s, t, sm.Connected(at=TICK), actor="test")
    return s.get_team(slug)


def _store_usage(s, team_id: int, day: date) -> None:
    s.replace_team_day(team_id, day, {"copilot_usage_daily": [_usage_row()]}, day_state_of="copilot_usage")


def _store_users(s, team_id: int, day: date) -> None:
    s.replace_team_day(team_id, day, {"copilot_user_daily": []}, raw_reports={"users-1-day": []},
                       day_state_of="copilot_user_usage")


def test_consecutive_runs_and_window():
    d = date(2026, 11, 1)
    days = [d, d + timedelta(days=1), d + timedelta(days=5), d + timedelta(days=15), d + timedelta(days=14)]
    assert consecutive_runs(days) == [(d, d + timedelta(days=1)), (d + timedelta(days=5), d + timedelta(days=5)),
                                      (d + timedelta(days=14), d + timedelta(days=15))]
    assert consecutive_runs([]) == []
    # the nightly window D-3..D-1 is re-pulled anyway: the gap finder looks at D-28..D-4
    assert gap_window(D, 28) == (D - timedelta(days=28), D - timedelta(days=4))


def test_three_gaps_over_sixteen_days_fetch_three_runs_not_sixteen_days():
    d0 = date(2026, 11, 1)
    gaps = [d0, d0 + timedelta(days=7), d0 + timedelta(days=15)]
    runs = plan_gap_runs({"a": {"copilot_usage": gaps}}, ["a"], 50)
    assert runs == [GapRun(("copilot_usage",), g, g, ("a",)) for g in gaps]
    assert sum(r.days for r in runs) == 3  # not 16


def test_plan_merges_assets_of_the_same_days_and_consecutive_teams_only():
    d = date(2026, 11, 1)
    e = d + timedelta(days=1)
    missing = {
        "a": {"copilot_usage": [d, e], "copilot_user_usage": [d, e]},
        "b": {"copilot_usage": [d, e], "copilot_user_usage": [d, e]},
        "c": {"copilot_user_usage": [d]},
        "d": {"copilot_usage": [d, e], "copilot_user_usage": [d, e]},  # not next to b in the partition order
    }
    runs = plan_gap_runs(missing, ["a", "b", "x", "c", "d"], 50)
    both = ("copilot_usage", "copilot_user_usage")
    assert runs == [GapRun(("copilot_user_usage",), d, d, ("c",)),  # ordered by days, then assets
                    GapRun(both, d, e, ("a", "b")), GapRun(both, d, e, ("d",))]
    assert plan_gap_runs({"a": {"copilot_usage": [d]}, "b": {"copilot_usage": [d]}}, ["a", "b"], 1) == [
        GapRun(("copilot_usage",), d, d, ("a",)), GapRun(("copilot_usage",), d, d, ("b",))]


def test_missing_days_per_asset_from_day_states(sqlite_store):
    s = sqlite_store
    a = _connected(s, "a")
    start, end = D - timedelta(days=10), D - timedelta(days=4)
    for i in range(7):
        day = start + timedelta(days=i)
        if i != 2:
            _store_usage(s, a.id, day)
        if i not in (2, 5):
            _store_users(s, a.id, day)
    s.record_no_report(a.id, start + timedelta(days=2), "copilot_usage", "organization-1-day", "http_404")
    # a later 204 never turns a day with data back into "missing"
    assert s.record_no_report(a.id, start, "copilot_usage", "organization-1-day", "http_204") == "data"
    gaps = missing_days(s, [a.id], start, end)
    assert gaps == {a.id: {"copilot_usage": [start + timedelta(days=2)],
                           "copilot_user_usage": [start + timedelta(days=2), start + timedelta(days=5)]}}


def test_nightly_asks_for_the_missing_days_only_and_confirms_empty_once(sqlite_store):
    s = sqlite_store
    teams = {slug: _connected(s, slug) for slug in ("a", "b")}
    s.set_flag(COPILOT_FLAG, True)
    horizon_start, _ = gap_window(D, 28)
    holes = {horizon_start + timedelta(days=2), horizon_start + timedelta(days=9),
             horizon_start + timedelta(days=18)}  # three gaps spread over 17 days
    day = horizon_start
    while day <= D - timedelta(days=1):
        _store_users(s, teams["a"].id, day)
        _store_users(s, teams["b"].id, day)
        _store_usage(s, teams["b"].id, day)
        if day not in holes:
            _store_usage(s, teams["a"].id, day)
        day += timedelta(days=1)
    # one hole is "no report yet": still missing, re-fetched like the others
    s.record_no_report(teams["a"].id, horizon_start + timedelta(days=9), "copilot_usage", "organization-1-day",
                       "http_404")
    # a "no report" day that has left the horizon: confirmed empty on this night, once
    old = horizon_start - timedelta(days=1)
    s.record_no_report(teams["b"].id, old, "copilot_user_usage", "users-1-day", "http_204")

    def tick():
        with dg.instance_for_test() as instance:
            instance.add_dynamic_partitions("teams", ["a", "b"])
            ctx = dg.build_schedule_context(instance=instance, scheduled_execution_time=TICK,
                                            resources={"store": StoreResource(database_url=s.url),
                                                       "sync_policy": SyncPolicyResource()})
            return list(copilot_nightly_sync(ctx))

    requests = tick()
    nightly = [r for r in requests if r.tags["copilot/trigger"] == "nightly"]
    gapfill = [r for r in requests if r.tags["copilot/trigger"] == "gapfill"]
    assert [(r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"],
             r.tags["copilot/night"]) for r in nightly] == [(f"{D - timedelta(days=3)}|a", f"{D - timedelta(days=1)}|b",
                                                              D.isoformat())]
    got = sorted((r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"],
                  tuple(k.to_user_string() for k in r.asset_selection)) for r in gapfill)
    assert got == sorted((f"{h}|a", f"{h}|a", ("copilot_usage",)) for h in holes)
    assert all(r.tags["copilot/team"] == "a" for r in gapfill)

    def confirmed():
        t = tables.copilot_day_status
        with s.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.select(t).where(t.c.state == "confirmed_empty"))]

    [row] = confirmed()
    assert (row["team_id"], row["day"], row["asset"]) == (teams["b"].id, old, "copilot_user_usage")
    assert "28-day gap horizon" in row["reason"] and row["reason"].endswith("http_204")
    first = row["last_checked_at"]
    tick()  # the next evaluation confirms nothing again
    [again] = confirmed()
    assert again["last_checked_at"] == first and again["reason"] == row["reason"]
