"""The team status machine (docs/architecture.md §4, §5): pure, no I/O, no Dagster.

Sensors, assets and the CLI all call :func:`apply` (through ``copilot_assets.team_health``), so every
transition follows the same rules:

| from                  | event                                            | to                      |
|-----------------------|--------------------------------------------------|-------------------------|
| any (but disabled)    | 401 from GitHub (App: uninstalled, key rejected) | token_revoked (+revoke) |
| disabled              | 401 from GitHub                                  | disabled (+revoke)      |
| connected             | 403 access denied (policy/subscription/scope/App permission...) | insufficient_licenses |
| connected             | other failure (counting run)                     | connected, failures + 1 |
| connected             | 3rd consecutive counting failure                 | insufficient_licenses   |
| any but disabled      | success                                          | connected, failures 0   |
| insufficient_licenses | license probe: a report answers 200/204          | connected               |
| insufficient_licenses | license probe: denied for another cause          | same, reason updated    |
| connected             | credential missing / undecryptable               | token_revoked           |
| token_revoked         | undecryptable credential decrypts again          | connected               |
| token_revoked         | new credential stored and verified               | connected               |
| any                   | teams connect                                    | connected               |
| any                   | team disconnects                                 | disabled                |

Ordering (decision 6): a failure from a run that *started* before the run that produced the last success never
overrides that success — not even a 401. A failure of a credential that is no longer the team's current one
(the team reconnected since), or of a run that started before the current credential was connected, changes
nothing: a stale run never undoes a reconnect. Backfills of old days (decision 2) send failures with
``counts_toward_strikes=False``: they never add a strike, but their 401/403 still apply. There is no
seat-count rule (docs/architecture.md decision 12): GitHub's 5-seat rule belonged to the retired metrics API.

Decisions come from typed error fields (``error_kind``, ``http_status``, ``reason``), never from text.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime

from resources.github_errors import ACCESS_DENIED_REASONS, CopilotAccessDenied, TokenRevoked
from resources.statuses import (
    CONNECTED,
    CREDENTIAL_REASONS,
    DISABLED,
    INSUFFICIENT_LICENSES,
    REASON_BAD_CREDENTIALS,
    REASON_CREDENTIAL_UNDECRYPTABLE,
    REASON_REPEATED_FAILURES,
    REMEDIATION_HINTS,
    REVOKED_REASONS,
    STATUSES,
    STRIKES_LIMIT,
    TOKEN_REVOKED,
    hint_for,
)


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
    # the team's current credential: a failure of another (older) credential, or of a run that started
    # before this one was connected, never undoes the reconnect
    active_credential_id: int | None = None
    credential_connected_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown copilot status {self.status!r}; expected one of {STATUSES}")
        if self.consecutive_failures < 0:
            raise ValueError("consecutive_failures must be >= 0")
        _fix_times(self, "last_sync_at", "last_success_run_started_at", "credential_connected_at")


# ----------------------------------------------------------------------------- events
@dataclass(frozen=True)
class _Event:
    """Every event happens at a time; all its datetimes are aware UTC (SQLite hands back naive ones)."""

    at: datetime

    def __post_init__(self) -> None:
        _fix_times(self, *(f.name for f in fields(self) if isinstance(getattr(self, f.name), datetime)))


@dataclass(frozen=True)
class SyncSucceeded(_Event):
    run_started_at: datetime
    counts_toward_strikes: bool = True


@dataclass(frozen=True)
class SyncFailed(_Event):
    run_started_at: datetime
    error_kind: str
    http_status: int | None = None
    reason: str | None = None
    counts_toward_strikes: bool = True
    credential_id: int | None = None  # the credential the failed run used (None: not known)

    @property
    def is_unauthorized(self) -> bool:
        return self.error_kind == TokenRevoked.error_kind or self.http_status == 401

    @property
    def is_access_denied(self) -> bool:
        return self.error_kind == CopilotAccessDenied.error_kind


@dataclass(frozen=True)
class LicenseProbe(_Event):
    """A report call made for a team in ``insufficient_licenses``: ``reports_readable`` when it answered
    200 or 204/404 (no report yet) — whatever the seat count —, else the typed 403 ``denied_reason``."""

    reports_readable: bool
    denied_reason: str | None = None


@dataclass(frozen=True)
class CredentialUnusable(_Event):
    """A connected team's credential cannot be used for a sync: none is stored, or the configured key
    cannot decrypt it (``reason`` is one of ``CREDENTIAL_REASONS``)."""

    reason: str

    def __post_init__(self) -> None:
        if self.reason not in CREDENTIAL_REASONS:
            raise ValueError(f"credential reason must be one of {CREDENTIAL_REASONS}, got {self.reason!r}")
        super().__post_init__()


@dataclass(frozen=True)
class CredentialUsable(_Event):
    """The team's stored credential decrypts again (the key was set back)."""


@dataclass(frozen=True)
class CredentialVerified(_Event):
    """A new token was stored and verified against GitHub (the old one stays revoked)."""


@dataclass(frozen=True)
class Connected(_Event):
    """``teams connect``: the only way out of ``disabled`` (decision 3)."""


@dataclass(frozen=True)
class Disconnected(_Event):
    """The team disconnects: status ``disabled``; no data is deleted."""


Event = (SyncSucceeded | SyncFailed | LicenseProbe | CredentialUnusable | CredentialUsable | CredentialVerified
         | Connected | Disconnected)

EVENT_NAMES: dict[type, str] = {
    SyncSucceeded: "sync_succeeded",
    SyncFailed: "sync_failed",
    LicenseProbe: "license_probe",
    CredentialUnusable: "credential_unusable",
    CredentialUsable: "credential_usable",
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


def _stale(h: TeamHealth, e: SyncFailed) -> str | None:
    """Why a failure must not change anything, or None."""
    # decision 6: a failure from a run that started before the last success's run never overrides it
    if h.last_success_run_started_at is not None and e.run_started_at < h.last_success_run_started_at:
        return "older_than_last_success"
    # a stale run never undoes a reconnect: its credential is no longer the team's current one, or (when
    # the run's credential is not known) the run started before the current credential was connected
    if e.credential_id is not None and e.credential_id != h.active_credential_id:
        return "stale_credential"
    if e.credential_id is None and h.credential_connected_at is not None \
            and e.run_started_at < h.credential_connected_at:
        return "older_than_credential"
    return None


def _on_failure(h: TeamHealth, e: SyncFailed) -> tuple[TeamHealth, str | None, bool]:
    stale = _stale(h, e)
    if stale is not None:
        return h, stale, False
    if e.is_unauthorized:  # a dead token, or a GitHub App that is uninstalled or whose key GitHub rejects
        revoked = e.reason if e.reason in REVOKED_REASONS else REASON_BAD_CREDENTIALS
        if h.status == DISABLED:  # decision 3: revoke the credential, leave the status alone
            return h, revoked, True
        return replace(h, status=TOKEN_REVOKED, reason=revoked), revoked, True
    if h.status != CONNECTED:
        return h, e.reason if e.is_access_denied else e.error_kind, False
    if e.is_access_denied:  # 403 naming licenses/policy/scope/...: applies even from a backfill (decision 2)
        reason = e.reason if e.reason in ACCESS_DENIED_REASONS else "unknown"
        return replace(h, status=INSUFFICIENT_LICENSES, reason=reason), reason, False
    if not e.counts_toward_strikes:  # decision 2: backfills of old days never add a strike
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
    if e.reports_readable:  # 200 or 204: no seat-count rule (decision 12)
        return _connected(h), None
    if e.denied_reason:  # the cause changed (e.g. seats fixed, policy still off): the reason and hint follow
        reason = e.denied_reason if e.denied_reason in ACCESS_DENIED_REASONS else "unknown"
        return replace(h, reason=reason), reason
    return h, h.reason


def _on_credential(h: TeamHealth, e: CredentialUnusable | CredentialUsable) -> tuple[TeamHealth, str | None]:
    if isinstance(e, CredentialUnusable):
        if h.status != CONNECTED:
            return h, None
        return replace(h, status=TOKEN_REVOKED, reason=e.reason), e.reason
    if h.status == TOKEN_REVOKED and h.reason == REASON_CREDENTIAL_UNDECRYPTABLE:
        return _connected(h), None
    return h, None


def apply(health: TeamHealth, event: Event, team: str | None = None) -> Transition:
    """Apply one event to a team's health. Pure: returns the transition; the caller persists it.
    ``team`` (the slug) only fills the hint's commands."""
    revoke = False
    reason: str | None
    if isinstance(event, SyncFailed):
        after, reason, revoke = _on_failure(health, event)
    elif isinstance(event, SyncSucceeded):
        after, reason = _on_success(health, event)
    elif isinstance(event, LicenseProbe):
        after, reason = _on_probe(health, event)
    elif isinstance(event, CredentialUnusable | CredentialUsable):
        after, reason = _on_credential(health, event)
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
        hint=hint_for(after.status, after.reason, team),
    )


__all__ = [
    "CONNECTED",
    "CREDENTIAL_REASONS",
    "DISABLED",
    "EVENT_NAMES",
    "INSUFFICIENT_LICENSES",
    "REMEDIATION_HINTS",
    "STATUSES",
    "STRIKES_LIMIT",
    "TOKEN_REVOKED",
    "Connected",
    "CredentialUnusable",
    "CredentialUsable",
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
