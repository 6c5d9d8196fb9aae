"""The status machine's GitHub App paths (pure): an uninstalled App or a rejected key takes the revoked path
with its own reason and hint; a missing App permission is insufficient_licenses with the permission named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from copilot_assets import status as sm

T1 = datetime(2026, 11, 20, 4, 45, tzinfo=UTC)


def health(status: str = "connected", reason: str | None = None) -> sm.TeamHealth:
    return sm.TeamHealth(status=status, reason=reason)


def failed(kind: str, *, status: int | None = None, reason: str | None = None) -> sm.SyncFailed:
    return sm.SyncFailed(at=T1 + timedelta(minutes=5), run_started_at=T1, error_kind=kind, http_status=status,
                         reason=reason)


@pytest.mark.parametrize(("status", "reason"), [(404, "app_uninstalled"), (401, "app_uninstalled"),
                                                (401, "app_key_rejected")])
def test_github_app_revoked_paths_keep_their_reason(status, reason):
    tr = sm.apply(health("connected"), failed("token_revoked", status=status, reason=reason))
    assert (tr.after.status, tr.after.reason, tr.reason, tr.revoke_credential) == ("token_revoked", reason, reason,
                                                                                   True)
    assert "--app-id" in tr.hint and "--private-key-file" in tr.hint
    # an unknown 401 reason stays the token's
    assert sm.apply(health(), failed("token_revoked", status=401, reason="weird")).after.reason == "bad_credentials"


def test_github_app_missing_permission_is_insufficient_licenses_with_the_permission_hint():
    tr = sm.apply(health("connected"), failed("access_denied", status=403, reason="app_permission_missing"))
    assert (tr.after.status, tr.after.reason, tr.revoke_credential) == ("insufficient_licenses",
                                                                         "app_permission_missing", False)
    assert "Organization Copilot metrics: read" in tr.hint and "GitHub Copilot Business: read" in tr.hint
    back = sm.apply(tr.after, sm.LicenseProbe(at=T1, reports_readable=True))
    assert back.after.status == "connected"


def test_a_disabled_team_keeps_its_status_when_its_app_is_uninstalled():
    tr = sm.apply(health("disabled"), failed("token_revoked", status=404, reason="app_uninstalled"))
    assert (tr.after.status, tr.reason, tr.revoke_credential) == ("disabled", "app_uninstalled", True)
