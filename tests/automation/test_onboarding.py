"""Issue 6: copilot_onboarding_sensor, driven tick by tick as the daemon would
(``copilot_flow.local_runs.tick_sensor`` + ``execute_run_request``, which also evaluates
copilot_failure_sensor after a failed run).
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
from automation_support import Harness, today
from store_support import active_token, days_present

from copilot_assets.jobs import INSIGHTS_KEY, SYNC_KEYS
from copilot_assets.outcomes import RUN_TRIGGER_TAG
from copilot_assets.sensors import ONBOARDING_STEP_TAG, ONBOARDING_TAG
from copilot_flow.local_runs import execute_run_request, tick_sensor


def _drive(h: Harness, slug: str, max_ticks: int = 6) -> tuple[list[str], list[tuple[dg.RunRequest, dg.DagsterRun]]]:
    """Tick the onboarding sensor until it has nothing left to do; run every request it makes.
    Returns the team's onboarding status after every tick, and (request, run) of the runs executed."""
    statuses: list[str] = []
    runs: list[tuple[dg.RunRequest, dg.DagsterRun]] = []
    for _ in range(max_ticks):
        data = tick_sensor(h.defs, h.instance, "copilot_onboarding_sensor")
        statuses.append(h.team(slug).onboarding_pipeline_status)
        for rr in data.run_requests or []:
            runs.append((rr, execute_run_request(h.defs, h.instance, rr)))
        if not data.run_requests and statuses[-1] in ("complete", "failed") and len(statuses) > 1 \
                and statuses[-2] == statuses[-1]:
            break
    return statuses, runs


def _materialized(h: Harness, run: dg.DagsterRun) -> set[dg.AssetKey]:
    records = h.instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    return {r.event_log_entry.asset_materialization.asset_key for r in records}


def _dedupe(seq: list[str]) -> list[str]:
    return [s for i, s in enumerate(seq) if i == 0 or seq[i - 1] != s]


def test_connected_team_syncs_then_insights_then_complete(h: Harness) -> None:
    h.flag(True)
    h.add_connected("acme")
    assert h.team("acme").onboarding_pipeline_status == "syncing_copilot"
    h.sync_partitions()

    statuses, runs = _drive(h, "acme")
    assert _dedupe(["syncing_copilot", *statuses]) == ["syncing_copilot", "llm_processing", "complete"]
    assert [r.status for _, r in runs] == [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.SUCCESS]
    (sync_rr, sync_run), (insights_rr, insights_run) = runs
    assert (sync_run.tags[ONBOARDING_TAG], sync_run.tags[ONBOARDING_STEP_TAG]) == ("acme", "syncing_copilot")
    assert sync_run.tags[RUN_TRIGGER_TAG] == "onboarding"
    assert list(sync_rr.asset_selection) == SYNC_KEYS and _materialized(h, sync_run) == set(SYNC_KEYS)
    assert insights_run.tags[ONBOARDING_STEP_TAG] == "llm_processing"
    assert list(insights_rr.asset_selection) == [INSIGHTS_KEY] and _materialized(h, insights_run) == {INSIGHTS_KEY}

    team = h.team("acme")
    latest = today() - timedelta(days=1)
    first = today() - timedelta(days=28)
    assert (team.copilot_status, team.copilot_consecutive_failures) == ("connected", 0)
    assert team.copilot_last_sync_at is not None
    # the 28 recent days were synced, the seat snapshot stored under the latest day, one insight for it
    assert len(days_present(h.store, "copilot_usage_daily", team.id, first, latest)) == 28
    assert h.store.count_rows("copilot_user_daily", team.id, latest) > 0
    assert h.store.count_rows("copilot_seat_snapshots", team.id, latest) == 1
    assert h.store.count_rows("insights", team.id) == 1
    assert h.store.count_rows("insights", team.id, latest) == 1


def test_team_not_connected_skips_the_sync_and_gets_a_status_insight(h: Harness) -> None:
    team = h.store.add_team("idle", name="Idle", github_org="idle-org")  # disabled: never connected
    h.store.set_onboarding(team.id, "syncing_copilot")
    h.sync_partitions()

    statuses, runs = _drive(h, "idle")
    assert _dedupe(["syncing_copilot", *statuses]) == ["syncing_copilot", "llm_processing", "complete"]
    [(rr, run)] = runs  # no sync run: only the insight of llm_processing
    assert list(rr.asset_selection) == [INSIGHTS_KEY] and run.status == dg.DagsterRunStatus.SUCCESS
    t = h.team("idle")
    assert t.copilot_status == "disabled"
    assert h.store.count_rows("copilot_usage_daily", t.id) == 0
    assert h.store.count_rows("insights", t.id, today() - timedelta(days=1)) == 1
    assert h.sim.requests_for("idle-org") == []  # nothing called GitHub for it


def test_sync_refused_with_401_moves_on_to_llm_processing_and_revokes(h: Harness) -> None:
    h.flag(True)
    h.add_connected("acme")
    h.sync_partitions()
    h.fault("acme", tokens=["revoked-after-connecting"])  # the org revokes our token in GitHub

    statuses, runs = _drive(h, "acme")
    assert _dedupe(statuses) == ["syncing_copilot", "llm_processing", "complete"]
    [(sync_rr, sync_run), (insights_rr, insights_run)] = runs
    assert sync_run.status == dg.DagsterRunStatus.FAILURE and list(sync_rr.asset_selection) == SYNC_KEYS
    assert insights_run.status == dg.DagsterRunStatus.SUCCESS and list(insights_rr.asset_selection) == [INSIGHTS_KEY]

    team = h.team("acme")
    assert (team.copilot_status, team.copilot_status_reason) == ("token_revoked", "bad_credentials")
    assert team.onboarding_error is None
    assert active_token(h.store, team.id) is None
    [ev] = [e for e in h.store.status_events(team.id) if e["event"] == "sync_failed"]
    assert (ev["to_status"], ev["run_id"]) == ("token_revoked", sync_run.run_id)
    assert h.store.count_rows("insights", team.id) == 1  # a status insight: no Copilot data


def test_onboarding_waits_while_the_flag_is_off(h: Harness) -> None:
    """decision 1: with integration_copilot_enabled off nothing syncs, onboarding included."""
    h.flag(False)
    h.add_connected("acme")
    h.sync_partitions()
    data = tick_sensor(h.defs, h.instance, "copilot_onboarding_sensor")
    assert not data.run_requests
    assert "integration_copilot_enabled" in (data.skip_message or "")
    assert h.team("acme").onboarding_pipeline_status == "syncing_copilot"
    h.flag(True)
    data = tick_sensor(h.defs, h.instance, "copilot_onboarding_sensor")
    assert [rr.tags["copilot/onboarding"] for rr in data.run_requests] == ["acme"]
