"""The team status machine (design §4 and §9): pure, no I/O, no Dagster.

Sensors, assets and the CLI all call :func:`apply` (through ``copilot_assets.team_health``), so every
transition follows the same rules:

| from                  | event                                        | to                      |
|-----------------------|----------------------------------------------|-------------------------|
| any (but disabled)    | 401 from GitHub                              | token_revoked (+revoke) |
| disabled              | 401 from GitHub                              | disabled (+revoke)      |
| connected             | 403 access denied (licenses/policy/scope...) | insufficient_licenses   |
| connected             | other failure (counting run)                 | connected, failures + 1 |
| connected             | 3rd consecutive counting failure             | insufficient_licenses   |
| any but disabled      | success                                      | connected, failures 0   |
| insufficient_licenses | license probe: >= 5 seats, reports readable  | connected               |
| token_revoked         | new credential stored and verified           | connected               |
| any                   | teams connect                                | connected               |
| any                   | team disconnects                             | disabled                |

Ordering (§9.6): a failure from a run that *started* before the run that produced the last success never
overrides that success — not even a 401. Backfills of old days (§9.2) send failures with
``counts_toward_strikes=False``: they never add a strike, but their 401/403 still apply.

Decisions come from typed error fields (``error_kind``, ``http_status``, ``reason``), never from text.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from resources.github_errors import ACCESS_DENIED_REASONS

DISABLED = "disabled"
CONNECTED = "connected"
INSUFFICIENT_LICENSES = "insufficient_licenses"
TOKEN_REVOKED = "token_revoked"  # noqa: S105 - a status name, not a secret
STATUSES = (DISABLED, CONNECTED, INSUFFICIENT_LICENSES, TOKEN_REVOKED)

STRIKES_LIMIT = 3
MIN_SEATS = 5

REASON_BAD_CREDENTIALS = "bad_credentials"
REASON_REPEATED_FAILURES = "repeated_failures"
REASON_INSUFFICIENT_LICENSES = "insufficient_licenses"

_CONNECT_CMD = "`copilot-flow teams connect SLUG --token-env VAR`"

REMEDIATION_HINTS: dict[str, str] = {
    # --- reasons
    REASON_BAD_CREDENTIALS: (
        "The GitHub token was revoked or expired: an org owner reconnects with "
        f"{_CONNECT_CMD}. Nightly syncs for this team are stopped until then."
    ),
    REASON_INSUFFICIENT_LICENSES: (
        f"Fewer than {MIN_SEATS} Copilot seats, or no Copilot Business/Enterprise subscription: GitHub only "
        f"publishes usage metrics for organizations with at least {MIN_SEATS} seats. Assign more seats "
        "(Settings → Copilot → Access); the daily license probe reconnects the team automatically."
    ),
    "policy_disabled": (
        "An org owner enables Settings → Copilot → Policies → Copilot usage metrics (or the enterprise "
        "enables it everywhere); the daily license probe then reconnects the team."
    ),
    "insufficient_permissions": (
        "The token's user is not an owner of the organization and holds no role with "
        "'View Organization Copilot Metrics': reconnect with an org owner's token via "
        f"{_CONNECT_CMD}."
    ),
    "missing_scope": (
        "The token lacks a scope: a classic token or OAuth app needs read:org (or manage_billing:copilot); "
        "a fine-grained token needs 'Organization Copilot metrics: read' and 'GitHub Copilot Business: "
        f"read'. Reconnect with such a token via {_CONNECT_CMD}."
    ),
    "sso_required": (
        "The organization uses SAML single sign-on and the token is not authorized for it: authorize the "
        "token for the organization in GitHub (Settings → Applications / Tokens → Configure SSO), then "
        f"reconnect via {_CONNECT_CMD}."
    ),
    "oauth_restricted": (
        "The organization restricts OAuth app access: an org owner approves this app under Settings → "
        "Third-party access → OAuth application policy, or connects with a fine-grained token."
    ),
    REASON_REPEATED_FAILURES: (
        f"{STRIKES_LIMIT} nightly syncs in a row failed (rate limits, GitHub outages or malformed "
        "reports): check the failed runs in the Dagster UI; the next successful sync (a manual "
        "materialization or a backfill of recent days) reconnects the team."
    ),
    "unknown": (
        "GitHub denied access (403) for a reason it did not name: check that the org has Copilot "
        "Business/Enterprise, the 'Copilot usage metrics' policy is on and the token's user is an org "
        f"owner, then reconnect via {_CONNECT_CMD}."
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
        f"{_CONNECT_CMD}."
    ),
    # "insufficient_licenses" is both a status and a reason: its one entry (above) serves both
}


def hint_for(status: str, reason: str | None) -> str:
    """The operator-facing remediation hint for a status and its reason."""
    if status in (CONNECTED, DISABLED):
        return REMEDIATION_HINTS[status]
    if reason and reason in REMEDIATION_HINTS:
        return REMEDIATION_HINTS[reason]
    return REMEDIATION_HINTS.get(status, f"Unknown Copilot status {status!r}: see docs/runbook.")


def _utc(value: datetime | None) -> datetime | None:
    """Aware UTC (a naive value, as SQLite returns them, is taken to be UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _fix_times(obj: object, *names: str) -> None:
    for name in names:
        object.__setattr__(obj, name, _utc(getattr(obj, name)))


# ----------------------------------------------------------------------------- state
@dataclass(frozen=True)
class TeamHealth:
    status: str
    reason: str | None = None
    consecutive_failures: int = 0
    last_sync_at: datetime | None = None
    last_success_run_started_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown copilot status {self.status!r}; expected one of {STATUSES}")
        if self.consecutive_failures < 0:
            raise ValueError("consecutive_failures must be >= 0")
        _fix_times(self, "last_sync_at", "last_success_run_started_at")


# ----------------------------------------------------------------------------- events
@dataclass(frozen=True)
class SyncSucceeded:
    at: datetime
    run_started_at: datetime
    counts_toward_strikes: bool = True

    def __post_init__(self) -> None:
        _fix_times(self, "at", "run_started_at")


@dataclass(frozen=True)
class SyncFailed:
    at: datetime
    run_started_at: datetime
    error_kind: str
    http_status: int | None = None
    reason: str | None = None
    counts_toward_strikes: bool = True

    def __post_init__(self) -> None:
        _fix_times(self, "at", "run_started_at")

    @property
    def is_unauthorized(self) -> bool:
        return self.error_kind == "token_revoked" or self.http_status == 401

    @property
    def is_access_denied(self) -> bool:
        return self.error_kind == "access_denied"


@dataclass(frozen=True)
class LicenseProbe:
    at: datetime
    seats: int
    reports_readable: bool

    def __post_init__(self) -> None:
        _fix_times(self, "at")


@dataclass(frozen=True)
class CredentialVerified:
    """A new token was stored and verified against GitHub (the old one stays revoked)."""

    at: datetime

    def __post_init__(self) -> None:
        _fix_times(self, "at")


@dataclass(frozen=True)
class Connected:
    """``teams connect``: the only way out of ``disabled`` (§9.3)."""

    at: datetime

    def __post_init__(self) -> None:
        _fix_times(self, "at")


@dataclass(frozen=True)
class Disconnected:
    """The team disconnects: status ``disabled``; no data is deleted."""

    at: datetime

    def __post_init__(self) -> None:
        _fix_times(self, "at")


Event = SyncSucceeded | SyncFailed | LicenseProbe | CredentialVerified | Connected | Disconnected

EVENT_NAMES: dict[type, str] = {
    SyncSucceeded: "sync_succeeded",
    SyncFailed: "sync_failed",
    LicenseProbe: "license_probe",
    CredentialVerified: "credential_verified",
    Connected: "connected",
    Disconnected: "disconnected",
}


@dataclass(frozen=True)
class Transition:
    before: TeamHealth
    after: TeamHealth
    event_name: str
    reason: str | None  # why (stored in copilot_status_events.reason; also the credential's revoked_reason)
    revoke_credential: bool
    changed: bool
    hint: str


# ----------------------------------------------------------------------------- rules
def _connected(h: TeamHealth) -> TeamHealth:
    return replace(h, status=CONNECTED, reason=None, consecutive_failures=0)


def _on_failure(h: TeamHealth, e: SyncFailed) -> tuple[TeamHealth, str | None, bool]:
    # §9.6: a failure from a run that started before the last success's run never overrides it
    if h.last_success_run_started_at is not None and e.run_started_at < h.last_success_run_started_at:
        return h, "older_than_last_success", False
    if e.is_unauthorized:
        if h.status == DISABLED:  # §9.3: revoke the credential, leave the status alone
            return h, REASON_BAD_CREDENTIALS, True
        return replace(h, status=TOKEN_REVOKED, reason=REASON_BAD_CREDENTIALS), REASON_BAD_CREDENTIALS, True
    if h.status != CONNECTED:
        return h, e.reason if e.is_access_denied else e.error_kind, False
    if e.is_access_denied:  # 403 naming licenses/policy/scope/...: applies even from a backfill (§9.2)
        reason = e.reason if e.reason in ACCESS_DENIED_REASONS else "unknown"
        return replace(h, status=INSUFFICIENT_LICENSES, reason=reason), reason, False
    if not e.counts_toward_strikes:  # §9.2: backfills of old days never add a strike
        return h, e.error_kind, False
    strikes = h.consecutive_failures + 1
    if strikes >= STRIKES_LIMIT:
        after = replace(h, status=INSUFFICIENT_LICENSES, reason=REASON_REPEATED_FAILURES,
                        consecutive_failures=strikes)
        return after, REASON_REPEATED_FAILURES, False
    return replace(h, consecutive_failures=strikes), e.error_kind, False


def _on_success(h: TeamHealth, e: SyncSucceeded) -> tuple[TeamHealth, str | None]:
    if h.status == DISABLED:
        return h, "team_disabled"
    last = h.last_success_run_started_at
    started = e.run_started_at if last is None else max(last, e.run_started_at)
    return replace(_connected(h), last_sync_at=e.at, last_success_run_started_at=started), None


def _on_probe(h: TeamHealth, e: LicenseProbe) -> tuple[TeamHealth, str | None]:
    if h.status != INSUFFICIENT_LICENSES:
        return h, None
    if e.seats >= MIN_SEATS and e.reports_readable:
        return _connected(h), None
    if e.seats < MIN_SEATS:
        return replace(h, reason=REASON_INSUFFICIENT_LICENSES), REASON_INSUFFICIENT_LICENSES
    return h, h.reason


def apply(health: TeamHealth, event: Event) -> Transition:
    """Apply one event to a team's health. Pure: returns the transition; the caller persists it."""
    revoke = False
    reason: str | None
    if isinstance(event, SyncFailed):
        after, reason, revoke = _on_failure(health, event)
    elif isinstance(event, SyncSucceeded):
        after, reason = _on_success(health, event)
    elif isinstance(event, LicenseProbe):
        after, reason = _on_probe(health, event)
    elif isinstance(event, CredentialVerified):
        after = _connected(health) if health.status == TOKEN_REVOKED else health
        reason = None
    elif isinstance(event, Connected):
        after, reason = _connected(health), None
    elif isinstance(event, Disconnected):
        after, reason = replace(health, status=DISABLED, reason=None, consecutive_failures=0), None
    else:
        raise TypeError(f"not a status-machine event: {type(event).__name__}")
    return Transition(
        before=health,
        after=after,
        event_name=EVENT_NAMES[type(event)],
        reason=reason,
        revoke_credential=revoke,
        changed=after != health,
        hint=hint_for(after.status, after.reason),
    )


__all__ = [
    "CONNECTED",
    "DISABLED",
    "EVENT_NAMES",
    "INSUFFICIENT_LICENSES",
    "MIN_SEATS",
    "REMEDIATION_HINTS",
    "STATUSES",
    "STRIKES_LIMIT",
    "TOKEN_REVOKED",
    "Connected",
    "CredentialVerified",
    "Disconnected",
    "Event",
    "LicenseProbe",
    "SyncFailed",
    "SyncSucceeded",
    "TeamHealth",
    "Transition",
    "apply",
    "hint_for",
]
