"""The team status machine (docs/architecture.md §4 and decisions 2, 3, 6): pure unit tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from copilot_assets import status as sm
from resources.github_errors import ACCESS_DENIED_REASONS, ERROR_KINDS
from resources.statuses import HINT_REASONS, REVOKED_REASONS

T0 = datetime(2026, 11, 20, 4, 45, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
T2 = T0 + timedelta(days=2)
OTHER_FAILURES = ("rate_limited", "unavailable", "malformed_report", "not_found", "invalid_request",
                  "download_link_expired", "internal_error")


def health(status: str = "connected", **kw) -> sm.TeamHealth:
    return sm.TeamHealth(status=status, reason=kw.pop("reason", None),
                         consecutive_failures=kw.pop("consecutive_failures", 0),
                         last_sync_at=kw.pop("last_sync_at", None),
                         last_success_run_started_at=kw.pop("last_success_run_started_at", None), **kw)


def failed(kind: str = "unavailable", *, status: int | None = None, reason: str | None = None,
           started: datetime = T1, counts: bool = True, credential_id: int | None = None) -> sm.SyncFailed:
    return sm.SyncFailed(at=started + timedelta(minutes=5), run_started_at=started, error_kind=kind,
                         http_status=status, reason=reason, counts_toward_strikes=counts,
                         credential_id=credential_id)


def succeeded(started: datetime = T1) -> sm.SyncSucceeded:
    return sm.SyncSucceeded(at=started + timedelta(minutes=5), run_started_at=started)


# ------------------------------------------------------------ row 1: any --401--> token_revoked
@pytest.mark.parametrize("start", ["connected", "insufficient_licenses", "token_revoked"])
@pytest.mark.parametrize("event", [failed("token_revoked", status=401), failed("token_revoked"),
                                   failed("github_error", status=401)])
def test_401_from_any_status_revokes(start, event):
    tr = sm.apply(health(start, reason="policy_disabled" if start == "insufficient_licenses" else None,
                         consecutive_failures=1), event)
    assert tr.after.status == "token_revoked"
    assert tr.after.reason == "bad_credentials"
    assert tr.reason == "bad_credentials"
    assert tr.revoke_credential is True
    assert tr.event_name == "sync_failed"
    assert tr.changed is (start != "token_revoked" or tr.before.reason != "bad_credentials")
    assert "teams connect" in tr.hint


def test_401_on_disabled_revokes_credential_but_keeps_status():  # decision 3
    before = health("disabled")
    tr = sm.apply(before, failed("token_revoked", status=401))
    assert tr.after == before
    assert tr.changed is False
    assert tr.revoke_credential is True
    assert tr.reason == "bad_credentials"
    assert tr.hint == sm.hint_for("disabled", None)


def test_disabled_leaves_only_through_connect():  # decision 3
    before = health("disabled")
    for event in (succeeded(), sm.LicenseProbe(at=T1, reports_readable=True),
                  sm.CredentialVerified(at=T1), failed("access_denied", status=403, reason="policy_disabled"),
                  failed("unavailable", status=503)):
        assert sm.apply(before, event).after.status == "disabled"
    tr = sm.apply(before, sm.Connected(at=T1))
    assert tr.after.status == "connected" and tr.changed


# ------------------------------------------------------------ row 2: connected --403--> insufficient_licenses
@pytest.mark.parametrize("reason", ACCESS_DENIED_REASONS)
def test_403_from_connected(reason):
    tr = sm.apply(health(), failed("access_denied", status=403, reason=reason))
    assert tr.after.status == "insufficient_licenses"
    assert tr.after.reason == reason
    assert tr.reason == reason
    assert tr.revoke_credential is False
    assert tr.changed
    assert tr.hint == sm.hint_for("insufficient_licenses", reason)


def test_403_with_unexpected_reason_is_unknown():
    tr = sm.apply(health(), failed("access_denied", status=403, reason="something_new"))
    assert tr.after.reason == "unknown"
    tr = sm.apply(health(), failed("access_denied", status=403, reason=None))
    assert (tr.after.status, tr.after.reason) == ("insufficient_licenses", "unknown")


def test_403_on_a_team_not_connected_changes_nothing():
    for start, reason in (("insufficient_licenses", "policy_disabled"), ("token_revoked", "bad_credentials")):
        before = health(start, reason=reason)
        tr = sm.apply(before, failed("access_denied", status=403, reason="missing_scope"))
        assert tr.after == before and not tr.changed and not tr.revoke_credential


def test_status_decided_from_typed_fields_not_text():
    # a rate limit that GitHub answered with 403 is typed rate_limited: a strike, not access denied
    tr = sm.apply(health(), failed("rate_limited", status=403, reason="insufficient_licenses"))
    assert tr.after.status == "connected" and tr.after.consecutive_failures == 1


# ----------------------------------------------------------------------------- rows 3-4: strikes
@pytest.mark.parametrize("kind", OTHER_FAILURES)
def test_other_failure_adds_a_strike(kind):
    tr = sm.apply(health(), failed(kind, status=500))
    assert tr.after.status == "connected"
    assert tr.after.consecutive_failures == 1
    assert tr.changed and not tr.revoke_credential
    assert tr.reason == kind


def test_third_consecutive_failure_exactly():
    h = health()
    statuses = []
    for i in range(3):
        tr = sm.apply(h, failed(OTHER_FAILURES[i], started=T1 + timedelta(days=i)))
        h = tr.after
        statuses.append((h.status, h.consecutive_failures, h.reason))
    assert statuses == [
        ("connected", 1, None),
        ("connected", 2, None),
        ("insufficient_licenses", 3, "repeated_failures"),
    ]
    assert tr.reason == "repeated_failures"
    assert tr.hint == sm.hint_for("insufficient_licenses", "repeated_failures")
    assert "3 nightly syncs in a row" in tr.hint


def test_failures_after_repeated_failures_change_nothing():
    h = health("insufficient_licenses", reason="repeated_failures", consecutive_failures=3)
    tr = sm.apply(h, failed("unavailable", started=T2))
    assert tr.after == h and not tr.changed


def test_success_between_failures_resets_the_count():
    h = health()
    h = sm.apply(h, failed(started=T0)).after
    h = sm.apply(h, failed(started=T0 + timedelta(hours=1))).after
    h = sm.apply(h, succeeded(started=T0 + timedelta(hours=2))).after
    assert (h.status, h.consecutive_failures) == ("connected", 0)
    h = sm.apply(h, failed(started=T1)).after
    h = sm.apply(h, failed(started=T1 + timedelta(hours=1))).after
    assert (h.status, h.consecutive_failures) == ("connected", 2)


def test_strikes_limit_and_no_seat_count_rule():
    assert sm.STRIKES_LIMIT == 3
    assert not hasattr(sm, "MIN_SEATS")  # GitHub's 5-seat rule belonged to the retired API (decision 12)
    assert not any("5 seats" in h or "5 Copilot seats" in h for h in sm.REMEDIATION_HINTS.values())


# ----------------------------------------------------------------------------- decision 2 backfills
def test_backfill_failure_never_adds_a_strike():
    before = health(consecutive_failures=2)
    tr = sm.apply(before, failed("unavailable", counts=False))
    assert tr.after == before and not tr.changed


def test_backfill_401_and_403_still_apply():
    tr = sm.apply(health(consecutive_failures=2), failed("token_revoked", status=401, counts=False))
    assert tr.after.status == "token_revoked" and tr.revoke_credential
    tr = sm.apply(health(), failed("access_denied", status=403, reason="sso_required", counts=False))
    assert (tr.after.status, tr.after.reason) == ("insufficient_licenses", "sso_required")


# ----------------------------------------------------------------------------- decision 6 ordering
def test_failure_older_than_last_success_never_overrides():
    h = sm.apply(health(), succeeded(started=T2)).after
    assert h.last_success_run_started_at == T2
    for event in (failed("unavailable", started=T1), failed("token_revoked", status=401, started=T1),
                  failed("access_denied", status=403, reason="policy_disabled", started=T1)):
        tr = sm.apply(h, event)
        assert tr.after == h
        assert not tr.changed and not tr.revoke_credential


def test_failure_of_the_same_or_a_later_run_applies():
    h = sm.apply(health(), succeeded(started=T1)).after
    assert sm.apply(h, failed("unavailable", started=T1)).after.consecutive_failures == 1
    assert sm.apply(h, failed("token_revoked", status=401, started=T2)).after.status == "token_revoked"


# ----------------------------------------------------------------------------- a stale run never undoes a reconnect
def test_failure_of_an_older_credential_changes_nothing():
    """The team reconnected (credential 8 replaced 7): a failed run that used credential 7 — even a 401 —
    neither changes the status nor revokes anything."""
    h = health(active_credential_id=8, credential_connected_at=T1)
    for event in (failed("token_revoked", status=401, started=T2, credential_id=7),
                  failed("access_denied", status=403, reason="policy_disabled", started=T2, credential_id=7),
                  failed("unavailable", started=T2, credential_id=7)):
        tr = sm.apply(h, event)
        assert tr.after == h and not tr.changed and not tr.revoke_credential
        assert tr.reason == "stale_credential"


def test_failure_of_a_run_started_before_the_credential_changes_nothing():
    h = health(active_credential_id=8, credential_connected_at=T1)
    tr = sm.apply(h, failed("token_revoked", status=401, started=T0))  # credential not known: by start time
    assert tr.after == h and not tr.revoke_credential and tr.reason == "older_than_credential"
    tr = sm.apply(h, failed("token_revoked", status=401, started=T2))
    assert tr.after.status == "token_revoked" and tr.revoke_credential


def test_failure_of_the_current_credential_applies():
    h = health(active_credential_id=8, credential_connected_at=T0)
    tr = sm.apply(h, failed("token_revoked", status=401, started=T1, credential_id=8))
    assert tr.after.status == "token_revoked" and tr.revoke_credential


def test_ordering_handles_naive_datetimes_from_sqlite():
    h = health(last_success_run_started_at=T2.replace(tzinfo=None))
    assert h.last_success_run_started_at == T2
    assert not sm.apply(h, failed(started=T1)).changed


# ----------------------------------------------------------------------------- row 5: success
@pytest.mark.parametrize("start,reason", [("connected", None), ("insufficient_licenses", "repeated_failures"),
                                          ("insufficient_licenses", "policy_disabled"),
                                          ("token_revoked", "bad_credentials")])
def test_success_from_any_but_disabled_connects(start, reason):
    before = health(start, reason=reason, consecutive_failures=2, last_sync_at=T0,
                    last_success_run_started_at=T0)
    event = succeeded(started=T1)
    tr = sm.apply(before, event)
    assert tr.after == sm.TeamHealth("connected", None, 0, event.at, T1)
    assert tr.changed and not tr.revoke_credential
    assert tr.event_name == "sync_succeeded"
    assert tr.hint == sm.REMEDIATION_HINTS["connected"]


def test_success_on_disabled_changes_nothing():
    before = health("disabled", last_sync_at=T0)
    tr = sm.apply(before, succeeded())
    assert tr.after == before and not tr.changed


def test_success_keeps_the_latest_success_run_start():
    h = sm.apply(health(), succeeded(started=T2)).after
    event = succeeded(started=T1)  # an older run finishing late
    h2 = sm.apply(h, event).after
    assert h2.last_success_run_started_at == T2
    assert h2.last_sync_at == event.at
    assert h2.status == "connected"


def test_unchanged_success_reports_changed_false():
    event = succeeded(started=T1)
    h = sm.apply(health(), event).after
    assert sm.apply(h, event).changed is False


# ----------------------------------------------------------------------------- row 6: license probe
@pytest.mark.parametrize("reason", ["no_subscription", "policy_disabled", "repeated_failures", "sso_required"])
def test_license_probe_reconnects_when_a_report_answers(reason):
    """200 or 204: back to connected, whatever the seat count (there is no seat-count rule)."""
    before = health("insufficient_licenses", reason=reason, consecutive_failures=3)
    tr = sm.apply(before, sm.LicenseProbe(at=T1, reports_readable=True))
    assert (tr.after.status, tr.after.reason, tr.after.consecutive_failures) == ("connected", None, 0)
    assert tr.event_name == "license_probe" and tr.changed


def test_license_probe_follows_a_changed_cause():
    """Seats fixed but the policy is still off: the reason and the hint follow GitHub's new cause."""
    before = health("insufficient_licenses", reason="no_subscription")
    tr = sm.apply(before, sm.LicenseProbe(at=T1, reports_readable=False, denied_reason="policy_disabled"))
    assert (tr.after.status, tr.after.reason) == ("insufficient_licenses", "policy_disabled")
    assert tr.changed and tr.hint == sm.hint_for("insufficient_licenses", "policy_disabled")
    same = sm.apply(tr.after, sm.LicenseProbe(at=T2, reports_readable=False, denied_reason="policy_disabled"))
    assert not same.changed
    odd = sm.apply(tr.after, sm.LicenseProbe(at=T2, reports_readable=False, denied_reason="weird"))
    assert odd.after.reason == "unknown"


def test_license_probe_without_an_answer_changes_nothing():  # 5xx, timeouts: nothing learned
    before = health("insufficient_licenses", reason="policy_disabled")
    assert not sm.apply(before, sm.LicenseProbe(at=T1, reports_readable=False)).changed


@pytest.mark.parametrize("start", ["connected", "token_revoked", "disabled"])
def test_license_probe_elsewhere_changes_nothing(start):
    before = health(start)
    assert not sm.apply(before, sm.LicenseProbe(at=T1, reports_readable=True)).changed
    assert not sm.apply(before, sm.LicenseProbe(at=T1, reports_readable=False,
                                                denied_reason="policy_disabled")).changed


# ----------------------------------------------------------------------------- credentials that cannot be used
@pytest.mark.parametrize("reason", sm.CREDENTIAL_REASONS)
def test_unusable_credential_needs_reconnection(reason):
    tr = sm.apply(health(), sm.CredentialUnusable(at=T1, reason=reason), "acme")
    assert (tr.after.status, tr.after.reason) == ("token_revoked", reason)
    assert not tr.revoke_credential
    assert "copilot-flow teams connect acme" in tr.hint
    for start in ("insufficient_licenses", "disabled", "token_revoked"):
        assert not sm.apply(health(start), sm.CredentialUnusable(at=T1, reason=reason)).changed


def test_undecryptable_credential_that_decrypts_again_reconnects():
    h = sm.apply(health(), sm.CredentialUnusable(at=T1, reason="credential_undecryptable")).after
    assert "COPILOT_FLOW_SECRET_KEY" in sm.hint_for(h.status, h.reason)
    tr = sm.apply(h, sm.CredentialUsable(at=T2))
    assert (tr.after.status, tr.after.reason) == ("connected", None)
    # a token GitHub revoked does not come back by decrypting
    revoked = health("token_revoked", reason="bad_credentials")
    assert not sm.apply(revoked, sm.CredentialUsable(at=T2)).changed
    with pytest.raises(ValueError):
        sm.CredentialUnusable(at=T1, reason="bad_credentials")


# ----------------------------------------------------------------------------- row 7: new credential
def test_new_verified_credential_reconnects_a_revoked_team():
    before = health("token_revoked", reason="bad_credentials", consecutive_failures=1)
    tr = sm.apply(before, sm.CredentialVerified(at=T1))
    assert (tr.after.status, tr.after.reason, tr.after.consecutive_failures) == ("connected", None, 0)
    assert tr.revoke_credential is False  # the old credential stays revoked; nothing new is revoked
    assert tr.event_name == "credential_verified"


@pytest.mark.parametrize("start,reason", [("connected", None), ("insufficient_licenses", "policy_disabled"),
                                          ("disabled", None)])
def test_new_credential_elsewhere_changes_nothing(start, reason):
    before = health(start, reason=reason)
    assert sm.apply(before, sm.CredentialVerified(at=T1)).after == before


# ----------------------------------------------------------------------------- row 8 + connect
@pytest.mark.parametrize("start", sm.STATUSES)
def test_disconnect_from_any_status(start):
    before = health(start, reason="bad_credentials" if start == "token_revoked" else None,
                    consecutive_failures=2, last_sync_at=T0, last_success_run_started_at=T0)
    tr = sm.apply(before, sm.Disconnected(at=T1))
    assert tr.after.status == "disabled"
    assert tr.after.last_sync_at == T0  # history kept, no data deleted
    assert tr.event_name == "disconnected"
    assert not tr.revoke_credential


@pytest.mark.parametrize("start", sm.STATUSES)
def test_teams_connect_from_any_status(start):
    before = health(start, reason="policy_disabled", consecutive_failures=2)
    tr = sm.apply(before, sm.Connected(at=T1))
    assert (tr.after.status, tr.after.reason, tr.after.consecutive_failures) == ("connected", None, 0)


# ----------------------------------------------------------------------------- hints and misc
def test_every_reason_and_status_has_a_hint():
    reasons = set(ACCESS_DENIED_REASONS) | {*REVOKED_REASONS, "repeated_failures", *sm.CREDENTIAL_REASONS}
    assert reasons == set(HINT_REASONS)
    for key in reasons | set(sm.STATUSES):
        assert sm.REMEDIATION_HINTS[key].strip()
    for reason in reasons:
        assert sm.hint_for("insufficient_licenses", reason, "acme") == \
            sm.REMEDIATION_HINTS[reason].replace("{team}", "acme")
    assert "copilot-flow teams connect acme " in sm.hint_for("token_revoked", "bad_credentials", "acme")
    assert "SLUG" not in " ".join(sm.hint_for(s, r, "acme") for s in sm.STATUSES for r in reasons)
    assert "{team}" not in sm.hint_for("token_revoked", "bad_credentials")  # no slug: a placeholder, not a brace
    assert "Copilot usage metrics" in sm.hint_for("insufficient_licenses", "policy_disabled")
    assert "subscription" in sm.hint_for("insufficient_licenses", "no_subscription")
    assert "read:org" in sm.REMEDIATION_HINTS["missing_scope"]
    assert "Organization Copilot metrics: read" in sm.REMEDIATION_HINTS["missing_scope"]
    assert sm.hint_for("connected", None) == sm.REMEDIATION_HINTS["connected"]
    assert sm.hint_for("disabled", None, "x") == sm.REMEDIATION_HINTS["disabled"].replace("{team}", "x")
    assert sm.hint_for("insufficient_licenses", None) == sm.REMEDIATION_HINTS["insufficient_licenses"]
    assert sm.hint_for("token_revoked", "weird", "x") == sm.REMEDIATION_HINTS["token_revoked"].replace("{team}", "x")


def test_every_error_kind_is_handled():
    for kind in ERROR_KINDS:
        tr = sm.apply(health(), failed(kind))
        assert tr.after.status in sm.STATUSES


def test_invalid_inputs_are_rejected():
    with pytest.raises(ValueError):
        sm.TeamHealth("paused", None, 0, None, None)
    with pytest.raises(TypeError):
        sm.apply(health(), object())  # type: ignore[arg-type]


def test_health_is_frozen():
    h = health()
    with pytest.raises(AttributeError):
        h.status = "disabled"  # type: ignore[misc]
    assert replace(h, consecutive_failures=1) != h
