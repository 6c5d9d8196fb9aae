"""Issue 15: team health stays right through reconnects, switches, small orgs and half-finished setups.

Every scenario runs through the real pieces: the GitHub simulator over HTTP, `connect_team`, real runs of
the sync assets on a real Dagster instance, and the sensors and schedule evaluated as the daemon would.
Assertions read the app store, the instance and the simulator's request log.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
from automation_support import Harness, nightly_window_requests, today, token_for
from store_support import active_token, credential_rows

from copilot_assets import status as sm
from copilot_assets.jobs import SYNC_KEYS
from copilot_assets.onboarding import connect_team
from copilot_assets.sensors import ONBOARDING_STEP_TAG
from copilot_flow.local_runs import execute_run_request
from resources.flags import COPILOT_FLAG
from resources.secrets import Secret


def _status(h: Harness, slug: str) -> tuple[str, str | None, int]:
    t = h.team(slug)
    return t.copilot_status, t.copilot_status_reason, t.copilot_consecutive_failures


# ----------------------------------------------------------------------------- no invented licensing rule
def test_a_three_seat_org_whose_reports_answer_stays_connected(h: Harness) -> None:
    h.flag(True)
    h.add_connected("small", seats=3)
    h.sync_partitions()
    result = h.nightly_run()
    assert result.success, result
    h.failure_sensor()
    assert _status(h, "small") == ("connected", None, 0)
    t = h.team("small")
    assert h.store.count_rows("copilot_usage_daily", t.id) == 3
    statuses = {r["status"] for r in h.sim.requests_for("small-org") if "report" in r["endpoint_kind"]
                or r["endpoint_kind"].endswith("-day")}
    assert 403 not in statuses


def test_policy_disabled_is_told_at_connect_then_the_probe_reconnects(h: Harness) -> None:
    h.flag(True)
    t = h.add_connected("pol", metrics_policy=False)
    # connect read the billing, then a report: the token is fine, the org's policy is off
    assert (t.copilot_status, t.copilot_status_reason) == ("insufficient_licenses", "policy_disabled")
    assert "policy_disabled" in h.last_connect_message
    assert "Copilot usage metrics" in h.last_connect_message and "copilot-flow teams connect pol" not in \
        h.last_connect_message.split("fix:")[0]
    hint = sm.hint_for(t.copilot_status, t.copilot_status_reason, "pol")
    assert "Settings → Copilot → Policies" in hint
    assert active_token(h.store, t.id).reveal() == token_for("pol")
    h.sync_partitions()
    assert not nightly_window_requests(h.nightly())  # not scheduled while GitHub refuses

    msg = h.tick("copilot_license_probe").skip_message
    assert "pol: unchanged (policy_disabled)" in msg
    assert _status(h, "pol") == ("insufficient_licenses", "policy_disabled", 0)

    h.fault("pol", metrics_policy=True)  # an org owner enables the policy
    msg = h.tick("copilot_license_probe").skip_message
    assert "pol: insufficient_licenses (policy_disabled) -> connected" in msg
    assert _status(h, "pol") == ("connected", None, 0)
    ev = h.events("pol")[-1]
    assert (ev["event"], ev["actor"], ev["to_status"]) == ("license_probe", "copilot_license_probe", "connected")
    assert [rr.tags["copilot/teams"] for rr in nightly_window_requests(h.nightly())] == ["pol"]


def test_the_probe_refreshes_the_reason_when_the_cause_changes(h: Harness) -> None:
    """No subscription (billing 404) at connect; the org subscribes, but its policy is still off: the
    reason and the hint follow GitHub's new cause."""
    h.flag(True)
    t = h.add_connected("org2", copilot_subscription=False, metrics_policy=False)
    assert (t.copilot_status, t.copilot_status_reason) == ("insufficient_licenses", "no_subscription")
    h.fault("org2", copilot_subscription=True, metrics_policy=False)
    h.tick("copilot_license_probe")
    t = h.team("org2")
    assert (t.copilot_status, t.copilot_status_reason) == ("insufficient_licenses", "policy_disabled")
    assert "Copilot usage metrics" in sm.hint_for(t.copilot_status, t.copilot_status_reason, "org2")
    ev = h.events("org2")[-1]
    assert (ev["event"], ev["from_status"], ev["to_status"], ev["reason"]) == (
        "license_probe", "insufficient_licenses", "insufficient_licenses", "policy_disabled")


# ----------------------------------------------------------------------------- a stale failure never undoes a reconnect
def test_a_401_run_that_started_before_the_reconnect_changes_nothing(h: Harness) -> None:
    """The real race: a nightly run resolves the old token and fails with 401; the operator reconnected
    while it ran; its failure is applied afterwards (by the step or the sensor) and must not revoke the new
    token."""
    h.flag(True)
    h.add_connected("acme")
    h.sync_partitions()
    h.fault("acme", tokens=["gho_rotated_0000000000000000"])  # the old token is dead in GitHub
    [rr] = nightly_window_requests(h.nightly())

    import copilot_assets.sync as sync_mod

    real = sync_mod._resolve_team

    reconnected: list[int] = []

    def resolve_then_reconnect(store, slug):  # the reconnect lands right after a step read the old token
        team, credential = real(store, slug)
        if not reconnected:
            connect_team(store, store.get_team(slug), Secret("gho_rotated_0000000000000000"), base_url=h.sim.url)
            reconnected.append(credential.id)
        return team, credential

    sync_mod._resolve_team = resolve_then_reconnect
    try:
        result = h.run_request(rr)
    finally:
        sync_mod._resolve_team = real
    assert not result.success
    h.failure_sensor()
    assert _status(h, "acme") == ("connected", None, 0)
    cred = h.store.active_credential(h.team("acme").id)
    assert cred.token.reveal() == "gho_rotated_0000000000000000"
    rows = credential_rows(h.store, h.team("acme").id)
    assert [(r["id"] == reconnected[0], r["revoked_reason"]) for r in rows] == [(True, "replaced"), (False, None)]
    # the next nightly syncs with the new token
    assert h.run_request(nightly_window_requests(h.nightly())[0]).success


# ----------------------------------------------------------------------------- the master switch means no GitHub calls
def test_flag_off_means_zero_github_requests_from_sensors_and_schedule(h: Harness) -> None:
    h.flag(True)
    h.add_connected("acme")
    h.add_connected("pol", metrics_policy=False)  # insufficient_licenses: the probe's candidate
    h.store.set_flag(COPILOT_FLAG, True)
    h.sync_partitions()
    for slug in ("acme", "pol"):
        assert h.team(slug).onboarding_pipeline_status == "syncing_copilot"

    def requests() -> int:
        return len(h.sim.requests_for("acme-org")) + len(h.sim.requests_for("pol-org"))

    for global_off in (True, False):
        if global_off:
            h.store.set_flag(COPILOT_FLAG, False)
        else:  # global on, both teams overridden off
            h.store.set_flag(COPILOT_FLAG, True)
            for slug in ("acme", "pol"):
                h.store.set_flag(COPILOT_FLAG, False, team_id=h.team(slug).id)
        before = requests()
        data = h.nightly()
        assert not data.run_requests
        onboarding = h.tick("copilot_onboarding_sensor")
        assert not [rr for rr in onboarding.run_requests or [] if set(rr.asset_selection) & set(SYNC_KEYS)]
        probe = h.tick("copilot_license_probe").skip_message
        assert "pol: not probed" in probe
        h.tick("copilot_teams_sensor")
        h.failure_sensor()
        h.tick("copilot_insights_automation")
        assert requests() == before
        assert _status(h, "pol") == ("insufficient_licenses", "policy_disabled", 0)


# ----------------------------------------------------------------------------- only syncable teams are scheduled
def test_a_connected_team_without_a_usable_credential_is_not_scheduled_and_says_why(h: Harness) -> None:
    h.flag(True)
    h.add_connected("acme")
    h.add_connected("beta")
    h.sync_partitions()
    beta = h.team("beta")
    h.store.revoke_credentials(beta.id, "lost")  # a connected team whose credential row is gone
    data = h.nightly()
    assert [rr.tags["copilot/teams"] for rr in nightly_window_requests(data)] == ["acme"]
    h.tick("copilot_teams_sensor")
    t = h.team("beta")
    assert (t.copilot_status, t.copilot_status_reason) == ("token_revoked", "credential_missing")
    assert "copilot-flow teams connect beta" in sm.hint_for(t.copilot_status, t.copilot_status_reason, "beta")
    ev = h.events("beta")[-1]
    assert (ev["event"], ev["actor"], ev["reason"]) == ("credential_unusable", "copilot_teams_sensor",
                                                        "credential_missing")


def test_an_undecryptable_token_needs_the_key_and_recovers_when_it_is_set_back(h: Harness, monkeypatch) -> None:
    import os

    from cryptography.fernet import Fernet

    h.flag(True)
    h.add_connected("acme")
    h.add_connected("beta")
    h.sync_partitions()
    good = os.environ["COPILOT_FLOW_SECRET_KEY"]
    monkeypatch.setenv("COPILOT_FLOW_SECRET_KEY", Fernet.generate_key().decode())  # an operator sets a new key
    h.store._box = None  # the store reads the key again
    data = h.nightly()
    assert not nightly_window_requests(data)
    assert "acme: credential_undecryptable" in data.skip_message
    h.tick("copilot_teams_sensor")
    t = h.team("acme")
    assert (t.copilot_status, t.copilot_status_reason) == ("token_revoked", "credential_undecryptable")
    assert "COPILOT_FLOW_SECRET_KEY" in sm.hint_for(t.copilot_status, t.copilot_status_reason, "acme")
    assert len(credential_rows(h.store, t.id)) == 1 and not credential_rows(h.store, t.id)[0]["is_revoked"]

    monkeypatch.setenv("COPILOT_FLOW_SECRET_KEY", good)  # the key is set back
    h.store._box = None
    h.tick("copilot_teams_sensor")
    assert _status(h, "acme") == ("connected", None, 0)
    assert [rr.tags["copilot/teams"] for rr in nightly_window_requests(h.nightly())] == ["acme..beta"]


# ----------------------------------------------------------------------------- onboarding moves on
def test_onboarding_of_a_403_team_ends_complete_with_a_rules_insight(h: Harness) -> None:
    h.flag(True)
    h.add_connected("acme")  # connected at connect time ...
    h.sync_partitions()
    h.fault("acme", {"mode": "403_permissions", "endpoint": "any"})  # ... then GitHub answers 403
    statuses, runs = [], []
    for _ in range(6):
        data = h.tick("copilot_onboarding_sensor")
        for rr in data.run_requests or []:
            runs.append((rr.tags.get(ONBOARDING_STEP_TAG), execute_run_request(h.defs, h.instance, rr)))
        statuses.append(h.team("acme").onboarding_pipeline_status)
        if statuses[-1] in ("complete", "failed") and not data.run_requests:
            break
    assert [step for step, _ in runs] == ["syncing_copilot", "llm_processing"]
    assert [r.status for _, r in runs] == [dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.SUCCESS]
    assert statuses[-1] == "complete"
    t = h.team("acme")
    assert (t.copilot_status, t.copilot_status_reason) == ("insufficient_licenses", "insufficient_permissions")
    assert t.onboarding_error is None
    latest = today() - timedelta(days=1)
    assert h.store.count_rows("insights", t.id, latest) == 1
    import sqlalchemy as sa

    from resources.tables import insights

    with h.store.engine.connect() as conn:
        row = conn.execute(sa.select(insights).where(insights.c.team_id == t.id)).mappings().one()
    assert row["source"] == "rules" and row["fallback_reason"] == "not_connected:insufficient_licenses"
    assert "insufficient_permissions" in row["detail"]


def test_onboarding_stops_at_failed_for_an_internal_error_with_the_error_stored(h: Harness, monkeypatch) -> None:
    h.flag(True)
    h.add_connected("acme")
    h.sync_partitions()

    def broken(*_a, **_k):
        raise RuntimeError("disk full while writing the team-day")

    monkeypatch.setattr("resources.store.Store.replace_team_days", broken)
    for _ in range(4):
        data = h.tick("copilot_onboarding_sensor")
        for rr in data.run_requests or []:
            execute_run_request(h.defs, h.instance, rr)
    t = h.team("acme")
    assert t.onboarding_pipeline_status == "failed"
    assert "disk full" in (t.onboarding_error or "")


# ----------------------------------------------------------------------------- no failure is lost
def test_a_401_while_the_failure_sensor_never_ticked_still_revokes_the_token(h: Harness) -> None:
    h.flag(True)
    h.add_connected("acme")
    h.sync_partitions()
    h.fault("acme", tokens=["revoked-in-github"])
    result = h.nightly_run()  # the failure sensor has never ticked (a new deployment)
    assert not result.success
    t = h.team("acme")
    assert (t.copilot_status, t.copilot_status_reason) == ("token_revoked", "bad_credentials")
    assert h.store.active_credential(t.id) is None
    [ev] = [e for e in h.events("acme") if e["event"] == "sync_failed"]
    assert ev["run_id"] == result.run_id and ev["actor"].startswith("asset:")
    # the deployment comes up: the sensor's first tick catches up on that run and changes nothing more
    h.failure_sensor()
    assert len([e for e in h.events("acme") if e["event"] == "sync_failed"]) == 1


def test_the_failure_sensor_catches_up_on_a_run_whose_step_could_not_record_it(h: Harness, monkeypatch) -> None:
    """A run whose outcome never reached the store (the store was unreachable when the step failed): the
    sensor's first tick — it was not looking either — applies it, exactly once."""
    h.flag(True)
    h.add_connected("acme")
    h.sync_partitions()
    h.fault("acme", tokens=["revoked-in-github"])
    import copilot_assets.sync as sync_mod

    monkeypatch.setattr(sync_mod, "apply_failures", lambda *a, **k: {})  # the step's own write is lost
    result = h.nightly_run()
    monkeypatch.undo()
    assert not result.success
    assert h.team("acme").copilot_status == "connected"
    data = h.failure_sensor()  # first tick ever: catches up instead of starting from "now"
    t = h.team("acme")
    assert (t.copilot_status, t.copilot_status_reason) == ("token_revoked", "bad_credentials")
    [ev] = [e for e in h.events("acme") if e["event"] == "sync_failed"]
    assert (ev["actor"], ev["run_id"]) == ("copilot_failure_sensor", result.run_id)
    assert data.cursor
    h.failure_cursor = None  # even a second "first tick" applies nothing twice
    h.failure_sensor()
    assert len([e for e in h.events("acme") if e["event"] == "sync_failed"]) == 1


def test_strikes_follow_the_night_not_the_clock(h: Harness) -> None:
    """A nightly run that executes days late still counts toward the 3-strike rule (its window is its
    night's), while the same days re-run from the UI that late are a backfill."""
    h.flag(True)
    h.add_connected("acme")
    h.sync_partitions()
    h.fault("acme", {"mode": "500", "endpoint": "any"})
    old_night = today() - timedelta(days=6)
    [rr] = nightly_window_requests(h.nightly(old_night))
    assert rr.tags["copilot/night"] == old_night.isoformat()
    result = h.run_request(rr)  # executes today, 6 days after its night
    assert not result.success
    assert _status(h, "acme") == ("connected", None, 1)
    ui = dict(rr.tags)
    ui.pop("copilot/night")
    ui.pop("copilot/trigger")
    result = h.materialize(tags=ui)  # the same days from the UI, today: old days, a backfill
    assert not result.success
    assert _status(h, "acme") == ("connected", None, 1)
