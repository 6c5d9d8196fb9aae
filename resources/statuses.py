"""A team's Copilot statuses, their reasons, their remediation hints and the onboarding steps (values the
app store keeps): one source for the status machine, the store's CHECK constraint and column descriptions,
the CLI and the docs. Every command in a hint names the team's slug.

Adding a status: add its name and hint here, write a migration for the teams CHECK constraint, and a
runbook row (docs/runbook.md); its transitions are rules in copilot_assets/status.py.
"""

from __future__ import annotations

DISABLED = "disabled"
CONNECTED = "connected"
INSUFFICIENT_LICENSES = "insufficient_licenses"
TOKEN_REVOKED = "token_revoked"  # noqa: S105 - a status name, not a secret
STATUSES = (DISABLED, CONNECTED, INSUFFICIENT_LICENSES, TOKEN_REVOKED)

STRIKES_LIMIT = 3

REASON_BAD_CREDENTIALS = "bad_credentials"
REASON_REPEATED_FAILURES = "repeated_failures"
REASON_NO_SUBSCRIPTION = "no_subscription"
REASON_CREDENTIAL_MISSING = "credential_missing"
REASON_CREDENTIAL_UNDECRYPTABLE = "credential_undecryptable"
CREDENTIAL_REASONS = (REASON_CREDENTIAL_MISSING, REASON_CREDENTIAL_UNDECRYPTABLE)
# a GitHub App credential: the installation is gone (token exchange 404, or a 401 on the API after one
# refresh), or GitHub rejects the App's JWT (401 on the exchange: wrong App id, a deleted or rotated key)
REASON_APP_UNINSTALLED = "app_uninstalled"
REASON_APP_KEY_REJECTED = "app_key_rejected"
# why a 401 revoked the credential: the token's own, or the App's
REVOKED_REASONS = (REASON_BAD_CREDENTIALS, REASON_APP_UNINSTALLED, REASON_APP_KEY_REJECTED)
# a 403 "Resource not accessible by integration": the App lacks a permission (X-Accepted-GitHub-Permissions)
REASON_APP_PERMISSION_MISSING = "app_permission_missing"

ONBOARDING_STATUSES = ("not_started", "syncing_copilot", "llm_processing", "complete", "failed")

_CONNECT_CMD = "`copilot-flow teams connect {team} --token-env VAR`"
_CONNECT_APP_CMD = "`copilot-flow teams connect {team} --app-id ID --private-key-file key.pem`"
# the GitHub App permissions this product needs (organization permissions, read-only)
APP_PERMISSIONS = ("Organization Copilot metrics: read", "GitHub Copilot Business: read")
_PROBE = "the license probe (every 6 h) returns the team to connected as soon as a report call answers"

REMEDIATION_HINTS: dict[str, str] = {
    # --- reasons (GitHub's own 403/404/422 causes, decision 12; no seat-count rule)
    REASON_BAD_CREDENTIALS: (
        "The GitHub token was revoked or expired: an org owner reconnects with "
        f"{_CONNECT_CMD}. Nightly syncs for this team are stopped until then."
    ),
    REASON_NO_SUBSCRIPTION: (
        "The organization has no Copilot Business or Enterprise subscription (GitHub: 'Copilot Business is "
        "not enabled for this organization'): an org owner subscribes and assigns seats under Settings → "
        f"Copilot → Access; {_PROBE}."
    ),
    "policy_disabled": (
        "The organization's 'Copilot usage metrics' policy is disabled: an org owner enables Settings → "
        "Copilot → Policies → Copilot usage metrics (or the enterprise enables it everywhere under AI "
        f"Controls → Copilot → Metrics); {_PROBE}."
    ),
    "insufficient_permissions": (
        "The token's user is not an owner of the organization and holds no role with "
        "'View Organization Copilot Metrics': reconnect with an org owner's token via "
        f"{_CONNECT_CMD}, or an owner grants that role; {_PROBE}."
    ),
    "missing_scope": (
        "The token lacks a scope: a classic token or OAuth app needs read:org (or manage_billing:copilot); "
        "a fine-grained token needs 'Organization Copilot metrics: read' and 'GitHub Copilot Business: "
        f"read'. Reconnect with such a token via {_CONNECT_CMD}."
    ),
    "sso_required": (
        "The organization uses SAML single sign-on and the token is not authorized for it: authorize the "
        "token for the organization in GitHub (Settings → Applications / Tokens → Configure SSO); "
        f"{_PROBE}, or reconnect via {_CONNECT_CMD}."
    ),
    "oauth_restricted": (
        "The organization restricts OAuth app access: an org owner approves this app under Settings → "
        f"Third-party access → OAuth application policy ({_PROBE}), or connects with a fine-grained token "
        f"via {_CONNECT_CMD}."
    ),
    REASON_APP_UNINSTALLED: (
        "The GitHub App is no longer installed on the organization (or its installation was suspended): GitHub "
        "answers 404 for an installation token, or 401 with one. The stored App credential is revoked and "
        "nightly syncs for this team are stopped: an org owner installs (or unsuspends) the App on the "
        f"organization, then an operator reconnects with {_CONNECT_APP_CMD} (the installation is found from "
        "the org)."
    ),
    REASON_APP_KEY_REJECTED: (
        "GitHub rejected the GitHub App's signed JWT (401): the App id is wrong, or the private key was "
        "deleted or regenerated in the App's settings. Generate a new private key for the App and reconnect "
        f"with {_CONNECT_APP_CMD}."
    ),
    REASON_APP_PERMISSION_MISSING: (
        "The GitHub App lacks a permission GitHub asks for (403 'Resource not accessible by integration'): "
        f"in the App's settings grant the organization permissions '{APP_PERMISSIONS[0]}' (usage reports) "
        f"and '{APP_PERMISSIONS[1]}' (billing and seats), then an org owner accepts the new permissions "
        f"for the installation (Settings → GitHub Apps → Review request); {_PROBE}."
    ),
    REASON_REPEATED_FAILURES: (
        f"{STRIKES_LIMIT} nightly syncs in a row failed (rate limits, GitHub outages or malformed "
        "reports): check the failed runs in the Dagster UI (Runs, tag copilot/team={team}); "
        f"{_PROBE}, and the next successful sync (a manual materialization or a backfill of recent days) "
        "reconnects the team too."
    ),
    "unknown": (
        "GitHub denied access (403) for a reason it did not name: check that the org has Copilot "
        "Business/Enterprise, the 'Copilot usage metrics' policy is on and the token's user is an org "
        f"owner; {_PROBE}, or reconnect via {_CONNECT_CMD}."
    ),
    REASON_CREDENTIAL_MISSING: (
        "The team is marked connected but has no active GitHub credential in the app store, so it is not "
        f"synced: reconnect with {_CONNECT_CMD}."
    ),
    REASON_CREDENTIAL_UNDECRYPTABLE: (
        "The stored GitHub token cannot be decrypted with the configured COPILOT_FLOW_SECRET_KEY, so the team "
        "is not synced: set COPILOT_FLOW_SECRET_KEY back to the Fernet key the token was encrypted with (the "
        f"team returns to connected on the next check), or reconnect with {_CONNECT_CMD}."
    ),
    # --- statuses (used when the reason is empty or has no hint of its own; a status other than
    # connected/disabled always carries a reason when the machine put it there)
    CONNECTED: "Connected: Copilot usage syncs nightly. Nothing to do.",
    DISABLED: (
        "Copilot integration is disabled for this team (never connected, or disconnected; stored data is "
        f"kept). Connect it with {_CONNECT_CMD}."
    ),
    TOKEN_REVOKED: (
        "The GitHub token was revoked or expired: an org owner reconnects with "
        f"{_CONNECT_CMD} (or a GitHub App: {_CONNECT_APP_CMD})."
    ),
    INSUFFICIENT_LICENSES: (
        "GitHub refuses this organization's Copilot usage reports (no subscription, the usage-metrics policy "
        f"off, or the token's role or scope): see the reason; {_PROBE}."
    ),
}
HINT_REASONS = tuple(k for k in REMEDIATION_HINTS if k not in STATUSES)

# hints of the alerts that are not a status change (docs/runbook.md, "Alerts")
ALERT_HINTS: dict[str, str] = {
    "day_confirmed_empty": (
        "Nothing to do if the organization had no Copilot activity that day (or did not exist yet). Otherwise "
        "check the org's 'Copilot usage metrics' policy and seats, then materialize the day again in the "
        "Dagster UI (copilot_usage, partition <day>|{team}): a manual materialization still fetches it."
    ),
    "sync_failed": (
        "Look at the failed run in the Dagster UI (Runs, tag copilot/team={team}): rate limits, GitHub outages "
        "or malformed reports are retried by the next nightly, which also fills the gaps of the horizon; a "
        f"{STRIKES_LIMIT}rd failure in a row sets insufficient_licenses (repeated_failures)."
    ),
}


def alert_hint(kind: str, team: str | None = None) -> str:
    """The runbook hint of an alert that is not a status change, naming the team's slug."""
    return ALERT_HINTS[kind].replace("{team}", team or "<team>")


def hint_for(status: str, reason: str | None, team: str | None = None) -> str:
    """The operator-facing remediation hint for a status and its reason, naming the team's slug."""
    if status in (CONNECTED, DISABLED):
        text = REMEDIATION_HINTS[status]
    elif reason and reason in REMEDIATION_HINTS:
        text = REMEDIATION_HINTS[reason]
    else:
        text = REMEDIATION_HINTS.get(status, f"Unknown Copilot status {status!r}: see docs/runbook.md.")
    return text.replace("{team}", team or "<team>")
