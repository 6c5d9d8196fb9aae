"""Connecting a team: verify the credential (a token, or a GitHub App installation) against the org's Copilot
billing and usage reports, store it encrypted, mark the team connected (or ``insufficient_licenses`` with the
fix, when GitHub refuses the org's reports) and start its onboarding (``syncing_copilot``). The sensor that
drives onboarding is in sensors.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from copilot_assets import status as sm
from copilot_assets.team_health import apply_event
from resources import settings
from resources.github import ORG_1_DAY, AppCredential, GitHubClient, GitHubResource, app_auth
from resources.github_errors import CopilotAccessDenied, GitHubError, NotFound, TokenRevoked
from resources.secrets import Secret
from resources.statuses import REASON_APP_PERMISSION_MISSING
from resources.store import Store, Team
from resources.validation import InvalidInput

# 403 causes that are the token's (refused at connect: a new token or role is the fix) ...
TOKEN_PROBLEMS = {
    "insufficient_permissions": "the token's user must be an owner of the organization "
    "(or hold a role with 'View Organization Copilot Metrics')",
    "missing_scope": "the token lacks the scope: classic tokens need read:org (or manage_billing:copilot); "
    "fine-grained tokens need 'GitHub Copilot Business: read' and 'Organization Copilot metrics: read'",
    "sso_required": "the token is not authorized for the organization's SAML SSO: authorize it in GitHub",
    "oauth_restricted": "the organization restricts OAuth apps: an owner must approve this app",
    "unknown": "GitHub denied access without naming why",
}
# ... and the organization's (the credential is stored; the team waits in insufficient_licenses with the fix,
# and the license probe reconnects it once GitHub serves the reports). A GitHub App missing a permission is
# fixed on GitHub's side (the App's settings, an owner accepting the new permissions): the same credential
# works afterwards.
ORG_PROBLEMS = ("policy_disabled", "no_subscription", REASON_APP_PERMISSION_MISSING)


@dataclass
class Verification:
    billing: dict
    report_denied: CopilotAccessDenied | None = None  # an organization problem the reports answered with
    report_unverified: str | None = None  # the report check got no answer (5xx, timeout): why


def _verifier(base_url: str | None) -> GitHubResource:
    return GitHubResource(base_url=base_url or settings.github_api_url(), max_attempts=2, max_retry_seconds=10,
                          rate_limit_budget_seconds=30)


def _check(client: GitHubClient, org: str, what: str) -> Verification:
    """Billing, then one usage report. An organization problem is returned; the credential's own problem is
    raised as InvalidInput naming what is missing."""
    try:
        billing = client.billing()
    except CopilotAccessDenied as exc:
        if exc.reason in ORG_PROBLEMS:
            return Verification(billing={}, report_denied=exc)
        raise
    try:
        client.report_day(ORG_1_DAY, datetime.now(UTC).date() - timedelta(days=2))
    except CopilotAccessDenied as exc:
        if exc.reason in ORG_PROBLEMS:
            return Verification(billing=billing, report_denied=exc)
        problem = TOKEN_PROBLEMS.get(exc.reason, TOKEN_PROBLEMS["unknown"])
        raise InvalidInput(f"{what} can read the Copilot billing of org {org!r} but not its usage reports: "
                           f"{problem}") from None
    except (TokenRevoked, NotFound):
        raise
    except GitHubError as exc:
        return Verification(billing=billing, report_unverified=f"{exc.error_kind} ({exc})")
    return Verification(billing=billing)


def _verify(team: Team, base_url: str | None, make: Callable[[GitHubResource], GitHubClient],
            what: str) -> Verification:
    org = team.github_org
    try:
        with make(_verifier(base_url)) as client:
            return _check(client, org, what)
    except TokenRevoked as exc:
        if exc.reason:  # the GitHub App's own answer (uninstalled, JWT rejected): its message says which
            raise InvalidInput(f"GitHub refused the {what}: {exc.message}") from None
        raise InvalidInput("GitHub rejected the token (401 Bad credentials): it is revoked, expired or mistyped") \
            from None
    except CopilotAccessDenied as exc:
        problem = TOKEN_PROBLEMS.get(exc.reason, TOKEN_PROBLEMS["unknown"])
        raise InvalidInput(f"{what} cannot read Copilot billing of org {org!r}: {problem}") from None
    except NotFound:
        raise InvalidInput(
            f"org {org!r} not found (404); check the org login and that the {what} can see it"
        ) from None
    except GitHubError as exc:
        raise InvalidInput(f"could not verify the {what} against GitHub: {exc}") from None


def verify_token(team: Team, token: Secret, base_url: str | None = None) -> Verification:
    """Read the org's Copilot billing and one usage report with the token (following GitHub's redirects).

    Raises InvalidInput naming what is missing when the token itself is the problem (revoked, wrong role
    or scope, SSO). An organization problem (usage-metrics policy off, no subscription) is returned, not
    raised: the token is fine and is stored, and the team waits in ``insufficient_licenses`` with the fix."""
    return _verify(team, base_url, lambda gh: gh.client(team=team.slug, org=team.github_org, token=token.reveal()),
                   "token")


def verify_app(team: Team, app: AppCredential, base_url: str | None = None) -> Verification:
    """As ``verify_token``, with a GitHub App installation token (a JWT exchanged for it, in memory only).
    An uninstalled App or a rejected key is refused; a missing App permission is told like an organization
    problem (``app_permission_missing``, with the permission GitHub names)."""
    return _verify(team, base_url, lambda gh: gh.client(team=team.slug, org=team.github_org, app=app),
                   f"GitHub App {app.app_id}")


def find_installation(team: Team, app_id: int, private_key: Secret, base_url: str | None = None) -> int:
    """The id of the App's installation on the team's org (``GET /orgs/{org}/installation`` as the App)."""
    org = team.github_org
    try:
        return app_auth.INSTALLATION_TOKENS.find_installation(base_url or settings.github_api_url(), app_id,
                                                              private_key, org, team=team.slug)
    except NotFound:
        raise InvalidInput(f"GitHub App {app_id} is not installed on org {org!r}: an org owner installs it "
                           "(the App's public page → Install), or pass --installation-id") from None
    except GitHubError as exc:
        raise InvalidInput(f"could not find the installation of GitHub App {app_id} on org {org!r}: "
                           f"{exc.message}") from None


def connect_team(store: Store, team: Team, token: Secret | None = None, *, app: AppCredential | None = None,
                 verify: bool = True, base_url: str | None = None) -> str:
    """Verify (unless ``verify`` is False) a token or a GitHub App installation (``app``), store it
    encrypted, mark the team connected — or, when GitHub refuses the org's reports for an organization
    reason, ``insufficient_licenses`` with the fix — and start onboarding. Returns what happened."""
    if (token is None) == (app is None):
        raise InvalidInput("connect a team with a token or with a GitHub App, not both and not neither")
    if app is not None:
        check = verify_app(team, app, base_url) if verify else None
        credential_id = store.store_app_credential(team.id, app_id=app.app_id, installation_id=app.installation_id,
                                                   private_key=app.private_key, verified=verify)
        stored = (f"through GitHub App {app.app_id} (installation {app.installation_id}); the App's private key "
                  "stored encrypted")
    else:
        assert token is not None
        check = verify_token(team, token, base_url) if verify else None
        credential_id = store.store_credential(team.id, token, verified=verify)
        stored = "token stored encrypted"
    now = datetime.now(UTC)
    event = sm.CredentialVerified(at=now) if team.copilot_status == sm.TOKEN_REVOKED else sm.Connected(at=now)
    apply_event(store, team, event, actor="cli")
    lines: list[str] = []
    if check is not None and check.report_denied is not None:
        denied = check.report_denied
        tr = apply_event(store, team, sm.SyncFailed(
            at=now, run_started_at=now, error_kind=denied.error_kind, http_status=denied.http_status,
            reason=denied.reason, counts_toward_strikes=False, credential_id=credential_id), actor="cli",
            detail="teams connect: report check")
        reason = tr.after.reason if tr else denied.reason
        lines.append(f"warning: GitHub refuses the Copilot usage reports of org {team.github_org!r} "
                     f"({denied.reason}): status insufficient_licenses ({reason}). GitHub said: {denied.message}")
        lines.append(f"fix: {sm.hint_for('insufficient_licenses', reason, team.slug)}")
    store.set_onboarding(team.id, "syncing_copilot")
    if check is None:
        verified = "not verified (--skip-verify)"
    else:
        seats = (check.billing or {}).get("seat_breakdown", {}).get("total")
        verified = f"verified ({seats} Copilot seats)" if seats is not None else "verified"
        if check.report_unverified:
            lines.append(f"note: the usage reports could not be checked now ({check.report_unverified}); "
                         "the first sync will tell")
    sep = " " if app is not None else "; "
    head = f"team {team.slug} connected{sep}{stored}, {verified}; onboarding: syncing_copilot"
    return "\n".join([head, *lines])
