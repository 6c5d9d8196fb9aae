"""Issues 7 and 15: copilot_insights_automation asks for insights of exactly the latest team-day whose metrics
were just synced — for syncable teams only (never disabled, revoked or flag-off teams: no empty runs) —
once the syncing run has finished, in range runs of consecutive teams."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
from automation_support import Harness, nightly_window_requests, today

from copilot_assets import status as sm
from copilot_assets.jobs import INSIGHTS_KEY, RANGE_END, RANGE_START, SYNC_KEYS
from copilot_assets.team_health import apply_event
from copilot_flow.local_runs import tick_sensor


def _tick(h: Harness, cursor: str | None):
    return tick_sensor(h.defs, h.instance, "copilot_insights_automation", cursor=cursor)


def test_fresh_metrics_request_insights_for_syncable_teams_only(h: Harness) -> None:
    h.flag(True)
    h.add_connected("acme")
    h.add_connected("beta")
    h.add_connected("gamma")
    h.store.add_team("dormant", name="Dormant", github_org="dormant-org")  # disabled: its metrics never sync
    h.sync_partitions()
    latest = (today() - timedelta(days=1)).isoformat()

    first = _tick(h, None)
    assert not first.run_requests

    requests = nightly_window_requests(h.nightly())
    assert [rr.tags["copilot/teams"] for rr in requests] == ["acme..beta", "gamma"]  # dormant sits between
    results = [h.run_request(rr) for rr in requests]
    assert all(r.success for r in results)
    for key in SYNC_KEYS:  # the latest team-day of all three upstream assets is materialized
        assert f"{latest}|acme" in h.materialized(results[0], key.to_user_string())
    # after the sync, gamma's token is revoked and beta's flag switched off: no insight for them
    now = datetime.now(UTC)
    apply_event(h.store, h.team("gamma"), sm.SyncFailed(at=now, run_started_at=now, error_kind="token_revoked",
                                                        http_status=401), actor="test")
    h.store.set_flag("integration_copilot_enabled", False, team_id=h.team("beta").id)

    after = _tick(h, first.cursor)
    [req] = after.run_requests
    assert list(req.asset_selection) == [INSIGHTS_KEY]
    assert (req.tags[RANGE_START], req.tags[RANGE_END]) == (f"{latest}|acme", f"{latest}|acme")

    handled = _tick(h, after.cursor)
    assert not handled.run_requests

    run = h.run_request(req)  # the insight lands for that team-day, nothing for the others
    assert run.success
    acme = h.team("acme")
    assert h.store.count_rows("insights", acme.id, today() - timedelta(days=1)) == 1
    assert h.store.count_rows("insights", acme.id) == 1
    for slug in ("beta", "gamma", "dormant"):
        assert h.store.count_rows("insights", h.team(slug).id) == 0
    assert [r for r in h.instance.get_runs() if r.tags.get("copilot/trigger") == "insights"
            and r.tags.get(RANGE_START) != f"{latest}|acme"] == []


def test_reports_refresh_after_the_nightly_for_the_teams_whose_latest_day_changed(h: Harness) -> None:
    h.flag(True)
    h.add_connected("acme")
    h.add_connected("beta")
    h.sync_partitions()
    first = tick_sensor(h.defs, h.instance, "copilot_reports_sensor")
    assert not first.run_requests
    h.fault("beta", tokens=["revoked-in-github"])  # beta's nightly fails: its latest day does not change
    for rr in nightly_window_requests(h.nightly()):
        h.run_request(rr)
    data = tick_sensor(h.defs, h.instance, "copilot_reports_sensor", cursor=first.cursor)
    by_asset = {tuple(k.to_user_string() for k in rr.asset_selection): rr for rr in data.run_requests}
    assert set(by_asset) == {("copilot_team_report",), ("copilot_org_overview",)}
    team_run = by_asset[("copilot_team_report",)]
    assert (team_run.tags[RANGE_START], team_run.tags[RANGE_END]) == ("acme", "acme")
    for rr in data.run_requests:
        assert h.run_request(rr).success
    mats = h.instance.fetch_materializations(dg.AssetKey("copilot_team_report"), limit=10).records
    assert [r.partition_key for r in mats] == ["acme"]
    again = tick_sensor(h.defs, h.instance, "copilot_reports_sensor", cursor=data.cursor)
    assert not again.run_requests


def _unfinished_run(h: Harness, trigger: str) -> dg.DagsterRun:
    """A run of ``trigger`` still running (another chunk of the night)."""
    from dagster._core.test_utils import create_run_for_test

    return create_run_for_test(h.instance, job_name="copilot_sync_job", status=dg.DagsterRunStatus.STARTED,
                               tags={"copilot/trigger": trigger})


def test_insights_wait_until_every_nightly_sync_run_has_finished(h: Harness, monkeypatch) -> None:
    """A finished chunk's teams get no insight run while other nightly sync runs are queued or running: one wave
    after the night (fewer runs, no competition with the sync for CPU); a run stuck past the bound stops no one."""
    from copilot_assets import materializations

    h.flag(True)
    h.add_connected("acme")
    h.add_connected("beta")
    h.sync_partitions()
    first = _tick(h, None)
    for rr in nightly_window_requests(h.nightly()):
        assert h.run_request(rr).success
    running = _unfinished_run(h, "nightly")
    _unfinished_run(h, "gapfill")  # only the nightly is waited for

    held = _tick(h, first.cursor)
    assert held.run_requests == [] and held.cursor is None
    assert "waiting for 1 nightly run(s) to finish; 2 team(s) already fresh" in held.skip_message

    monkeypatch.setattr(materializations, "WAIT_FOR_RUNS_AT_MOST", timedelta(seconds=-60))  # created "too long ago"
    assert [rr.tags["copilot/teams"] for rr in _tick(h, first.cursor).run_requests] == ["acme..beta"]
    monkeypatch.undo()

    h.instance.report_run_failed(running)
    assert h.instance.get_run_by_id(running.run_id).status == dg.DagsterRunStatus.FAILURE
    [req] = _tick(h, first.cursor).run_requests
    assert req.tags["copilot/teams"] == "acme..beta"


def test_reports_wait_for_the_nights_insight_runs(h: Harness) -> None:
    h.flag(True)
    h.add_connected("acme")
    h.sync_partitions()
    first = tick_sensor(h.defs, h.instance, "copilot_reports_sensor")
    for rr in nightly_window_requests(h.nightly()):
        assert h.run_request(rr).success
    insight = _unfinished_run(h, "insights")
    held = tick_sensor(h.defs, h.instance, "copilot_reports_sensor", cursor=first.cursor)
    assert held.run_requests == []
    assert "waiting for 1 insights run(s) to finish; 1 team(s) changed" in held.skip_message
    h.instance.report_run_failed(insight)
    data = tick_sensor(h.defs, h.instance, "copilot_reports_sensor", cursor=first.cursor)
    assert {tuple(k.to_user_string() for k in rr.asset_selection) for rr in data.run_requests} == {
        ("copilot_team_report",), ("copilot_org_overview",)}
