"""Issue 6, recovery: the license probe returns teams to connected once a report answers (no seat-count
rule: tests/automation/test_team_health.py); reconnecting a revoked team with a new token verifies it
against the GitHub simulator; a bad token is refused and nothing is stored."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from automation_support import Harness, token_for
from store_support import active_token, credential_rows

from copilot_assets import status as sm
from copilot_assets.onboarding import connect_team
from copilot_assets.team_health import apply_event
from copilot_flow.local_runs import tick_sensor
from resources.secrets import Secret
from resources.validation import InvalidInput


def _probe(h: Harness) -> str:
    return tick_sensor(h.defs, h.instance, "copilot_license_probe").skip_message


def test_license_probe_keeps_team_while_reports_are_not_readable(h: Harness) -> None:
    h.flag(True)
    h.add_connected("pol")
    h.sync_partitions()
    h.fault("pol", {"mode": "403_policy", "endpoint": "organization"})  # the metrics policy is off
    h.failure_sensor(h.nightly_run())
    assert (h.team("pol").copilot_status, h.team("pol").copilot_status_reason) == (
        "insufficient_licenses", "policy_disabled")

    assert "pol: unchanged (policy_disabled)" in _probe(h)
    assert h.team("pol").copilot_status_reason == "policy_disabled"

    h.fault("pol")  # the owner enables the policy
    _probe(h)
    assert h.team("pol").copilot_status == "connected"


def _revoked_team(h: Harness, slug: str):
    h.add_connected(slug)
    now = datetime.now(UTC)
    apply_event(h.store, h.team(slug), sm.SyncFailed(at=now, run_started_at=now, error_kind="token_revoked",
                                                     http_status=401), actor="copilot_failure_sensor")
    team = h.team(slug)
    assert team.copilot_status == "token_revoked"
    return team


def test_connect_with_new_token_returns_revoked_team_to_connected(h: Harness) -> None:
    team = _revoked_team(h, "acme")
    new_token = "gho_BrandNewToken0123456789abcdef"
    h.fault("acme", tokens=[new_token])  # GitHub now accepts only the new token

    msg = connect_team(h.store, team, Secret(new_token), base_url=h.sim.url)
    assert "verified (50 Copilot seats)" in msg and new_token not in msg

    t = h.team("acme")
    assert (t.copilot_status, t.copilot_status_reason, t.copilot_consecutive_failures) == ("connected", None, 0)
    old, new = credential_rows(h.store, t.id)
    assert old["is_revoked"] and old["revoked_at"] is not None and old["revoked_reason"] == "bad_credentials"
    assert not new["is_revoked"] and new["verified_at"] is not None
    assert active_token(h.store, t.id).reveal() == new_token
    ev = h.events("acme")[-1]
    assert (ev["event"], ev["from_status"], ev["to_status"]) == ("credential_verified", "token_revoked", "connected")
    assert t.onboarding_pipeline_status == "syncing_copilot"


@pytest.mark.parametrize(
    ("token", "faults", "message"),
    [
        ("gho_WrongToken0123456789abcdef", [], "GitHub rejected the token (401 Bad credentials)"),
        (None, [{"mode": "403_permissions", "endpoint": "billing"}], "must be an owner of the organization"),
    ],
    ids=["401", "403-not-owner"],
)
def test_connect_with_bad_token_raises_and_stores_nothing(h: Harness, token, faults, message) -> None:
    team = _revoked_team(h, "acme")
    token = token or token_for("acme")
    h.fault("acme", *faults)
    before = (h.team("acme"), credential_rows(h.store, team.id), h.events("acme"))

    with pytest.raises(InvalidInput) as exc:
        connect_team(h.store, team, Secret(token), base_url=h.sim.url)
    assert message in str(exc.value)
    assert token not in str(exc.value)

    assert (h.team("acme"), credential_rows(h.store, team.id), h.events("acme")) == before
    assert active_token(h.store, team.id) is None
