"""A team connected through a GitHub App, end to end: real Dagster runs of the sync assets against the GitHub
simulator over HTTP. The App's installation token is exchanged once and reused (a fake clock decides when it
is due), refreshed after expiry and after a 401; an uninstalled App takes the status machine's revoked path
(``app_uninstalled``, the credential revoked); a missing App permission is ``insufficient_licenses``
(``app_permission_missing``) with the hint naming the permission, and the license probe reconnects the team
once the permission is granted."""

from __future__ import annotations

import httpx
import pytest
from app_support import INSTALLATION_ID, FakeClock, install_app
from automation_support import Harness, step_failures
from store_support import credential_rows

from copilot_assets.onboarding import connect_team
from resources.github import InstallationTokens, app_auth
from resources.store import Team


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    """The process's installation tokens, on a fake clock (and fresh: nothing cached by another test)."""
    clock = FakeClock()
    monkeypatch.setattr(app_auth, "INSTALLATION_TOKENS", InstallationTokens(clock=clock))
    return clock


def _exchanges() -> int:
    return app_auth.INSTALLATION_TOKENS.exchanges


def add_app_team(h: Harness, slug: str, **knobs) -> Team:
    org = f"{slug}-org"
    app = install_app(h.sim.state, org, seats=50, **knobs)
    team = h.store.add_team(slug, name=f"Team {slug}", github_org=org)
    h.last_connect_message = connect_team(h.store, team, app=app, base_url=h.sim.url)
    return h.team(slug)


def _installation(h: Harness, **body) -> None:
    httpx.post(f"{h.sim.url}/_sim/installations/{INSTALLATION_ID}", json=body, timeout=10).raise_for_status()


def test_an_app_team_syncs_with_one_installation_token_refreshed_after_expiry(h: Harness, clock) -> None:
    h.flag(True)
    team = add_app_team(h, "acme")
    assert team.copilot_status == "connected" and "through GitHub App" in h.last_connect_message
    h.sync_partitions()
    assert _exchanges() == 1  # the verification's token

    assert h.nightly_run().success
    assert _exchanges() == 1  # the same token served the whole run (3 days × 3 assets)
    org_requests = [r for r in h.sim.requests_for("acme-org")
                    if r["endpoint_kind"] not in ("download", "app_access_token")]
    assert org_requests and {r["auth"] for r in org_requests} == {"installation"}
    assert {r["status"] for r in org_requests} == {200}

    # an hour later the token is about to expire: the next run gets a new one before GitHub would refuse it
    clock.advance(3600)
    h.sim.state.advance_clock(3600)
    assert h.nightly_run().success
    assert _exchanges() == 2
    assert not any(r["status"] == 401 for r in h.sim.requests_for("acme-org"))

    # GitHub refuses the token early (revoked, clock skew): one 401, one new token, the run goes on
    _installation(h, expire_tokens=True)
    assert h.nightly_run().success
    assert _exchanges() == 3
    assert [r["status"] for r in h.sim.requests_for("acme-org")].count(401) == 1
    t = h.team("acme")
    assert (t.copilot_status, t.copilot_consecutive_failures) == ("connected", 0)


def test_an_uninstalled_app_takes_the_revoked_path(h: Harness, clock) -> None:
    h.flag(True)
    add_app_team(h, "acme")
    h.sync_partitions()
    _installation(h, installed=False)

    result = h.nightly_run()
    assert not result.success
    records = step_failures(result)
    assert {(r["error_kind"], r.get("reason")) for r in records if r["error_kind"] == "token_revoked"} == {
        ("token_revoked", "app_uninstalled")}
    h.failure_sensor(result)
    t = h.team("acme")
    assert (t.copilot_status, t.copilot_status_reason) == ("token_revoked", "app_uninstalled")
    [cred] = credential_rows(h.store, t.id)
    assert cred["is_revoked"] is True and cred["revoked_reason"] == "app_uninstalled"
    [ev] = [e for e in h.events("acme") if e["event"] == "sync_failed"]
    assert (ev["from_status"], ev["to_status"], ev["reason"]) == ("connected", "token_revoked", "app_uninstalled")
    assert "acme: status token_revoked (app_uninstalled)" in h.nightly().skip_message

    # reinstalled: an operator reconnects the App and the team is connected again
    _installation(h, installed=True)
    msg = connect_team(h.store, t, app=install_app(h.sim.state, "acme-org", seats=50), base_url=h.sim.url)
    assert "connected through GitHub App" in msg
    assert h.team("acme").copilot_status == "connected"


def test_a_missing_app_permission_is_insufficient_licenses_then_the_probe_reconnects(h: Harness, clock) -> None:
    h.flag(True)
    add_app_team(h, "acme")
    h.sync_partitions()
    _installation(h, permissions={"organization_copilot_seat_management": "read"}, expire_tokens=True)

    result = h.nightly_run()
    assert not result.success
    denied = [r for r in step_failures(result) if r["error_kind"] == "access_denied"]
    assert denied and {r["reason"] for r in denied} == {"app_permission_missing"}
    assert "Organization Copilot metrics: read" in denied[0]["message"]
    t = h.team("acme")
    assert (t.copilot_status, t.copilot_status_reason) == ("insufficient_licenses", "app_permission_missing")
    assert credential_rows(h.store, t.id)[0]["is_revoked"] is False  # the App credential itself is fine

    from copilot_assets.status import hint_for

    assert "Organization Copilot metrics: read" in hint_for(t.copilot_status, t.copilot_status_reason, "acme")
    # still missing: the probe keeps the team where it is
    assert "acme: unchanged (app_permission_missing)" in h.tick("copilot_license_probe").skip_message
    # the reports are granted but billing and seats no longer: the probe checks billing too, and waits
    _installation(h, permissions={"organization_copilot_metrics": "read"}, expire_tokens=True)
    assert "acme: unchanged (app_permission_missing)" in h.tick("copilot_license_probe").skip_message
    assert h.team("acme").copilot_status == "insufficient_licenses"
    # granted (GitHub issues the new permissions with the next token): the probe reconnects the team
    _installation(h, permissions={"organization_copilot_metrics": "read",
                                  "organization_copilot_seat_management": "read"}, expire_tokens=True)
    h.tick("copilot_license_probe")
    assert h.team("acme").copilot_status == "connected"
