"""Connecting a team: verify the token's org admin access, store it encrypted, mark the team connected
and start its onboarding (``syncing_copilot``). The sensor that drives onboarding lives in sensors.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

from copilot_assets import status as sm
from copilot_assets.team_health import apply_event
from resources import config
from resources.github_errors import CopilotAccessDenied, GitHubError, NotFound, TokenRevoked
from resources.secrets import Secret
from resources.store import Store, Team
from resources.validation import InvalidInput

MISSING_ACCESS = {
    "insufficient_permissions": "the token's user must be an owner of the organization "
    "(or hold a role with 'View Organization Copilot Metrics')",
    "missing_scope": "the token lacks the scope: classic tokens need read:org (or manage_billing:copilot); "
    "fine-grained tokens need 'GitHub Copilot Business: read' and 'Organization Copilot metrics: read'",
    "sso_required": "the token is not authorized for the organization's SAML SSO: authorize it in GitHub",
    "oauth_restricted": "the organization restricts OAuth apps: an owner must approve this app",
    "policy_disabled": "the organization's 'Copilot usage metrics' policy is disabled",
    "insufficient_licenses": "the organization has no Copilot Business/Enterprise subscription with 5+ seats",
}


def verify_token(team: Team, token: Secret, base_url: str | None = None) -> dict:
    """Read the org's Copilot billing with the token. Raises InvalidInput naming what is missing."""
    from resources.github import GitHubResource

    gh = GitHubResource(base_url=base_url or config.github_api_url(), max_attempts=2, max_retry_seconds=10)
    try:
        with gh.client(team=team.slug, org=team.github_org, token=token.reveal()) as client:
            return client.billing()
    except TokenRevoked:
        raise InvalidInput("GitHub rejected the token (401 Bad credentials): it is revoked, expired or mistyped") \
            from None
    except CopilotAccessDenied as exc:
        what = MISSING_ACCESS.get(exc.reason, "GitHub denied access to the org's Copilot billing")
        raise InvalidInput(f"token cannot read Copilot billing of org {team.github_org!r}: {what}") from None
    except NotFound:
        raise InvalidInput(
            f"org {team.github_org!r} not found or has no Copilot subscription (404); check the org login "
            "and that the token's user can see it"
        ) from None
    except GitHubError as exc:
        raise InvalidInput(f"could not verify the token against GitHub: {exc}") from None


def connect_team(store: Store, team: Team, token: Secret, *, verify: bool = True,
                 base_url: str | None = None) -> str:
    billing = verify_token(team, token, base_url) if verify else None
    store.store_credential(team.id, token, verified=verify)
    now = datetime.now(UTC)
    event = sm.CredentialVerified(at=now) if team.copilot_status == "token_revoked" else sm.Connected(at=now)
    apply_event(store, team, event, actor="cli")
    store.set_onboarding(team.id, "syncing_copilot")
    seats = (billing or {}).get("seat_breakdown", {}).get("total")
    verified = f"verified ({seats} Copilot seats)" if billing is not None else "not verified (--skip-verify)"
    return f"team {team.slug} connected; token stored encrypted, {verified}; onboarding: syncing_copilot"
