"""The names of a team's Copilot statuses, their reasons and onboarding steps: one source for the status
machine, its hints, the store's CHECK constraint and column descriptions, the CLI and the docs.

Adding a status: add it here, write a migration for the teams CHECK constraint, and a runbook row.
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

ONBOARDING_STATUSES = ("not_started", "syncing_copilot", "llm_processing", "complete", "failed")
