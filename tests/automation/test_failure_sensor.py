"""Issues 6 and 15: real failed runs apply the team status machine, exactly once per run and team.

Every run here is a real ``dg.materialize`` of the sync assets against the GitHub simulator over HTTP. The
failing step records its typed outcomes itself; ``copilot_failure_sensor`` (evaluated as the daemon would)
is the backstop and must never apply a run twice. Every assertion reads the app store's rows.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from automation_support import Harness, nightly_window_requests, step_failures, today, window
from store_support import active_token, credential_rows, days_present

from copilot_assets import status as sm
from copilot_assets.outcomes import TEAM_TAG


def _sensor_events(h: Harness, slug: str) -> list[dict]:
    """Status events applied for failed runs (by the failing step itself, or the backstop sensor)."""
    return [e for e in h.events(slug) if e["event"] == "sync_failed"]


# ----------------------------------------------------------------------------- 401
def test_401_revokes_token_and_credential_exactly_once(h: Harness) -> None:
    h.flag(True)
    h.add_connected("acme")
    h.sync_partitions()
    h.fault("acme", tokens=["a-newer-token-we-do-not-have"])  # revoked in GitHub: every call is 401

    result = h.nightly_run()
    assert not result.success
    records = step_failures(result)
    # the first step got 401 and revoked the credential; the later steps of the run had none to use
    assert 401 in {r["http_status"] for r in records}
    assert {r["error_kind"] for r in records} <= {"token_revoked", "credential_revoked"}

    h.failure_sensor(result)
    team = h.team("acme")
    assert (team.copilot_status, team.copilot_status_reason) == ("token_revoked", "bad_credentials")
    [cred] = credential_rows(h.store, team.id)
    assert cred["is_revoked"] is True and cred["revoked_at"] is not None
    assert cred["revoked_reason"] == "bad_credentials"
    assert active_token(h.store, team.id) is None
    [ev] = _sensor_events(h, "acme")
    assert (ev["event"], ev["from_status"], ev["to_status"]) == ("sync_failed", "connected", "token_revoked")
    assert ev["run_id"] == result.run_id  # the plain Dagster run id (joins to the run in the UI)
    assert ev["reason"] == "bad_credentials"

    # the same failed run again (a re-evaluated tick): nothing changes
    n_events = len(h.events("acme"))
    h.failure_sensor(result)
    again = h.team("acme")
    assert (again.copilot_status, again.copilot_consecutive_failures) == ("token_revoked", 0)
    assert len(h.events("acme")) == n_events
    assert credential_rows(h.store, team.id) == [cred]

    # nightly stops for this team
    data = h.nightly()
    assert not data.run_requests
    assert "acme: status token_revoked (bad_credentials)" in data.skip_message


# ----------------------------------------------------------------------------- 403
@pytest.mark.parametrize(
    ("knobs", "faults", "reason", "http_status"),
    [
        ({"copilot_subscription": False}, [], "no_subscription", 404),  # billing: "Copilot Business is not enabled"
        ({}, [{"mode": "403_permissions", "endpoint": "any"}], "insufficient_permissions", 403),
        ({}, [{"mode": "403_policy", "endpoint": "any"}], "policy_disabled", 403),
        ({"metrics_policy": False}, [], "policy_disabled", 403),
        ({}, [{"mode": "422_policy", "endpoint": "organization"}], "policy_disabled", 422),  # older paths
    ],
    ids=["no_subscription", "403_permissions", "403_policy", "policy_off", "422_policy"],
)
def test_github_denial_makes_insufficient_licenses_with_reason(h: Harness, knobs, faults, reason,
                                                                  http_status) -> None:
    h.flag(True)
    h.add_connected("acme")
    h.sync_partitions()
    h.fault("acme", *faults, **knobs)

    result = h.nightly_run()
    assert http_status in {r["http_status"] for r in step_failures(result)}
    h.failure_sensor(result)

    team = h.team("acme")
    assert (team.copilot_status, team.copilot_status_reason) == ("insufficient_licenses", reason)
    assert team.copilot_consecutive_failures == 0
    [ev] = _sensor_events(h, "acme")
    assert (ev["to_status"], ev["reason"], ev["run_id"]) == ("insufficient_licenses", reason, result.run_id)
    # the credential is not revoked by a 403; the hint names the remedy for that reason
    assert active_token(h.store, team.id) is not None
    assert sm.hint_for(team.copilot_status, team.copilot_status_reason, "acme") == \
        sm.REMEDIATION_HINTS[reason].replace("{team}", "acme")


# ----------------------------------------------------------------------------- transient failures
def test_three_transient_nightly_failures_then_repeated_failures_and_success_resets(h: Harness) -> None:
    h.flag(True)
    h.add_connected("acme")
    h.sync_partitions()

    def failing_nightly(mode: str):
        h.fault("acme", {"mode": mode, "endpoint": "any"})
        result = h.nightly_run()
        assert {r["error_kind"] for r in step_failures(result)} == {"unavailable"}
        h.failure_sensor(result)
        return result, h.team("acme")

    _, t = failing_nightly("500")
    assert (t.copilot_status, t.copilot_consecutive_failures) == ("connected", 1)

    # a success in between resets the count and records the sync
    h.fault("acme")
    ok = h.nightly_run()
    assert ok.success
    t = h.team("acme")
    assert (t.copilot_status, t.copilot_consecutive_failures) == ("connected", 0)
    assert t.copilot_last_sync_at is not None and t.copilot_last_sync_at.date() == today()
    usage_days = days_present(h.store, "copilot_usage_daily", t.id, window()[0], window()[-1])
    assert usage_days == set(window())

    r1, t = failing_nightly("502")
    assert (t.copilot_status, t.copilot_consecutive_failures) == ("connected", 1)
    r2, t = failing_nightly("500")
    assert (t.copilot_status, t.copilot_consecutive_failures) == ("connected", 2)
    r3, t = failing_nightly("500")
    assert (t.copilot_status, t.copilot_status_reason) == ("insufficient_licenses", "repeated_failures")
    assert t.copilot_consecutive_failures == 3

    evs = _sensor_events(h, "acme")
    assert [(e["from_failures"], e["to_failures"], e["to_status"]) for e in evs] == [
        (0, 1, "connected"), (0, 1, "connected"), (1, 2, "connected"), (2, 3, "insufficient_licenses"),
    ]
    assert [e["run_id"] for e in evs[1:]] == [r1.run_id, r2.run_id, r3.run_id]
    assert evs[-1]["reason"] == "repeated_failures"


def test_same_failed_run_twice_changes_nothing(h: Harness) -> None:
    h.flag(True)
    h.add_connected("acme")
    h.sync_partitions()
    h.fault("acme", {"mode": "500", "endpoint": "any"})
    result = h.nightly_run()

    h.failure_sensor(result)
    first = h.team("acme")
    n_events = len(h.events("acme"))
    assert (first.copilot_status, first.copilot_consecutive_failures) == ("connected", 1)

    h.failure_sensor(result)
    second = h.team("acme")
    assert (second.copilot_status, second.copilot_status_reason, second.copilot_consecutive_failures) == (
        first.copilot_status, first.copilot_status_reason, first.copilot_consecutive_failures)
    assert len(h.events("acme")) == n_events
    assert second.updated_at == first.updated_at  # not even re-saved


# ----------------------------------------------------------------------------- isolation between teams
@pytest.mark.parametrize("mode", ["500", "401"])
def test_failure_of_team_a_never_changes_team_b(h: Harness, mode: str) -> None:
    h.flag(True)
    h.add_connected("team-a")
    h.add_connected("team-b")
    h.sync_partitions()
    assert h.team("team-b").copilot_last_sync_at is None
    if mode == "401":
        h.fault("team-a", tokens=["rotated-elsewhere"])
    else:
        h.fault("team-a", {"mode": mode, "endpoint": "any"})

    [rr] = nightly_window_requests(h.nightly())  # one range run carries both teams
    assert rr.tags["copilot/teams"] == "team-a..team-b"
    result = h.run_request(rr)
    h.failure_sensor(result)

    days = [d.isoformat() for d in window()]
    assert h.materialized(result, "copilot_usage") == {f"{d}|team-b" for d in days}
    assert {r["team"] for r in step_failures(result)} == {"team-a"}

    a, b = h.team("team-a"), h.team("team-b")
    if mode == "401":
        assert a.copilot_status == "token_revoked"
    else:
        assert (a.copilot_status, a.copilot_consecutive_failures) == ("connected", 1)
    assert (b.copilot_status, b.copilot_status_reason, b.copilot_consecutive_failures) == ("connected", None, 0)
    assert b.copilot_last_sync_at is not None and b.copilot_last_sync_at.date() == today()
    assert active_token(h.store, b.id) is not None
    assert _sensor_events(h, "team-b") == []
    assert days_present(h.store, "copilot_usage_daily", b.id, window()[0], window()[-1]) == set(window())


# ----------------------------------------------------------------------------- old-day backfills (decision 2)
def test_old_day_backfill_500_adds_no_strike_but_401_still_revokes(h: Harness) -> None:
    h.flag(True)
    h.add_connected("acme")
    h.sync_partitions()
    team = h.team("acme")
    # two strikes already: one more counting failure would flip the team to insufficient_licenses
    h.store.save_health(team.id, status="connected", reason=None, consecutive_failures=2,
                        last_sync_at=None, last_success_run_started_at=None, event=None)
    start, end = today() - timedelta(days=20), today() - timedelta(days=18)

    h.fault("acme", {"mode": "500", "endpoint": "any"})
    result = h.range_run("acme", "acme", start, end)  # tagged like a UI backfill
    assert TEAM_TAG not in result.dagster_run.tags
    assert {r["error_kind"] for r in step_failures(result)} == {"unavailable"}
    h.failure_sensor(result)
    t = h.team("acme")
    assert (t.copilot_status, t.copilot_consecutive_failures) == ("connected", 2)
    assert _sensor_events(h, "acme") == []  # nothing changed, so nothing to record

    h.fault("acme", tokens=["rotated-elsewhere"])
    result = h.range_run("acme", "acme", start, end)
    records = step_failures(result)  # the later steps had no credential left to use
    assert 401 in {r["http_status"] for r in records}
    assert {r["error_kind"] for r in records} <= {"token_revoked", "credential_revoked"}
    h.failure_sensor(result)
    t = h.team("acme")
    assert (t.copilot_status, t.copilot_status_reason) == ("token_revoked", "bad_credentials")
    assert all(c["is_revoked"] and c["revoked_at"] is not None for c in credential_rows(h.store, t.id))
    [ev] = _sensor_events(h, "acme")
    assert (ev["to_status"], ev["run_id"]) == ("token_revoked", result.run_id)
