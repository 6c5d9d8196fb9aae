"""The simulator's configuration: fault modes and ``Fault``, a GitHub App's ``Installation`` on an org, per-org
``OrgConfig``, the whole ``SimConfig`` (with the GitHub Apps' public keys)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

REDIRECT_MODES = ("redirect", "redirect_other_host")
ENVELOPE_MODES = (
    "malformed_json",
    "malformed_ndjson",
    "truncated_shard",
    "expired_link",
    "no_content",
    "string_body",
    "empty_body",
)
RESPONSE_MODES = (
    "401",
    "403_policy",
    "403_permissions",
    "404",
    "422",
    "422_policy",
    "429",
    "secondary_limit",
    "500",
    "502",
    "503",
    "slow",
    *REDIRECT_MODES,
)
FAULT_MODES = RESPONSE_MODES + ENVELOPE_MODES


FAULT_STATUSES = {
    "secondary_limit": (403, 429),  # default 403
    "redirect": (301, 302, 303, 307, 308),  # default 301
    "redirect_other_host": (301, 302, 303, 307, 308),  # default 307
}


@dataclass
class Fault:
    """One injected fault. ``status`` picks the HTTP status of "secondary_limit" (403/429) and of the
    redirect modes; ``retry_after`` (seconds) is sent as ``retry-after`` — "429" (primary) sends 1 s when
    unset, "secondary_limit" sends NO retry-after header unless set. Redirect modes hit downloads only
    when ``endpoint`` is "download"."""

    mode: str
    endpoint: str = "any"  # substring of the report name, or "billing"/"seats"/"download"/"any"
    times: int | None = None  # how many requests it affects; None = forever
    days: list[str] | None = None  # only these report days (YYYY-MM-DD)
    delay_s: float = 5.0  # for "slow"
    retry_after: int | None = None  # for "429" (default 1) / "secondary_limit" (default: no header)
    status: int | None = None  # for "secondary_limit" and the redirect modes

    def __post_init__(self) -> None:
        if self.mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {self.mode!r}; known: {', '.join(FAULT_MODES)}")
        allowed = FAULT_STATUSES.get(self.mode, ())
        if self.status is not None and self.status not in allowed:
            raise ValueError(
                f"fault mode {self.mode!r} takes status in {list(allowed)}, got {self.status!r}"
                if allowed
                else f"fault mode {self.mode!r} takes no status"
            )

    def matches(self, kind: str, day: str | None) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.mode in REDIRECT_MODES and kind == "download" and self.endpoint != "download":
            return False
        if self.endpoint != "any" and self.endpoint not in kind:
            return False
        if self.days is not None and day not in self.days:
            return False
        return True


NOT_READY_STATUSES = ("mixed", "204", "404")

# GitHub App organization permissions: usage reports need "Organization Copilot metrics" (read); billing and
# seats "GitHub Copilot Business" (read), or "Administration" (read) — GitHub's X-Accepted-GitHub-Permissions
METRICS_PERMISSION = "organization_copilot_metrics"
SEATS_PERMISSION = "organization_copilot_seat_management"
ADMIN_PERMISSION = "organization_administration"
DEFAULT_APP_PERMISSIONS = {METRICS_PERMISSION: "read", SEATS_PERMISSION: "read"}


@dataclass
class Installation:
    """A GitHub App installed on an org: the App's id, the installation's id, the permissions the org granted
    it (installation tokens carry the ones granted when they were issued), and whether it is installed."""

    app_id: int
    installation_id: int
    permissions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_APP_PERMISSIONS))
    installed: bool = True

    @classmethod
    def from_dict(cls, d: dict[str, Any] | Installation | None) -> Installation | None:
        if d is None or isinstance(d, Installation):
            return d
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown app_installation keys: {sorted(unknown)}")
        inst = cls(**d)
        if int(inst.app_id) <= 0 or int(inst.installation_id) <= 0:
            raise ValueError("app_installation needs positive app_id and installation_id")
        inst.app_id, inst.installation_id = int(inst.app_id), int(inst.installation_id)
        inst.permissions = {str(k): str(v) for k, v in (inst.permissions or {}).items()}
        return inst


@dataclass
class OrgConfig:
    tokens: list[str] | None = None  # None → ["sim-token-<org>"]
    seats: int = 50
    enterprise_every: int = 0  # every N-th seat on Copilot Enterprise (plan_type per seat); 0: all Business
    history_start: str | None = None  # YYYY-MM-DD; days before → not ready, 204/404 (default: today − 365)
    # YYYY-MM-DD; user-teams-1-day for days before → not ready (GitHub added the endpoint on 2026-05-14); None = none
    user_teams_start: str | None = "2026-05-14"
    ready_lag_days: int = 1  # days newer than today − lag → not ready (204/404)
    faults: list[Fault] = field(default_factory=list)
    latency_ms: int = 0
    shards: int = 1
    link_ttl_seconds: int = 3600
    metrics_policy: bool = True  # False → report endpoints answer 403 (policy message)
    copilot_subscription: bool = True  # False → billing/seats 404 "Copilot Business is not enabled ...", reports 404
    not_ready_status: str = "mixed"  # not-ready / pre-history days: "mixed" (204 or 404 per seed), "204", "404"
    # seats Link: rel="next"/"last"/... URLs on this origin ("localhost", "localhost:8787" or a full origin);
    # a host without a port keeps the request's port. None = the request's own origin
    seats_link_host: str | None = None
    # a GitHub App installed on this org (its installation tokens are accepted like the org's tokens)
    app_installation: Installation | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any] | OrgConfig | None) -> OrgConfig:
        if isinstance(d, OrgConfig):
            return d
        d = dict(d or {})
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown OrgConfig keys: {sorted(unknown)}")
        faults = [f if isinstance(f, Fault) else Fault(**f) for f in d.pop("faults", []) or []]
        installation = Installation.from_dict(d.pop("app_installation", None))
        cfg = cls(**d, faults=faults, app_installation=installation)
        if not 1 <= cfg.seats <= 10000 and cfg.seats != 0:
            raise ValueError("seats must be within 0..10000")
        if cfg.not_ready_status not in NOT_READY_STATUSES:
            raise ValueError(
                f"not_ready_status must be one of {list(NOT_READY_STATUSES)}, got {cfg.not_ready_status!r}"
            )
        cfg.shards = max(1, int(cfg.shards))
        if cfg.user_teams_start is not None:
            try:
                date.fromisoformat(cfg.user_teams_start)
            except (TypeError, ValueError):
                raise ValueError(f"user_teams_start {cfg.user_teams_start!r} is not a YYYY-MM-DD date") from None
        return cfg


@dataclass
class SimConfig:
    orgs: dict[str, OrgConfig] = field(default_factory=dict)
    auto_orgs: bool = False  # any org works with token "sim-token-<org>"
    latency_ms: int = 0
    secret: str = field(default_factory=lambda: secrets.token_hex(16))  # HMAC key of download links
    today: str | None = None  # override "today" (UTC) for deterministic tests
    # GitHub Apps: App id → the App's public key (PEM), which verifies the App's RS256 JWTs
    apps: dict[str, str] = field(default_factory=dict)
    installation_token_ttl_seconds: int = 3600  # GitHub: installation tokens expire after one hour

    @classmethod
    def from_dict(cls, d: dict[str, Any] | SimConfig | None) -> SimConfig:
        if isinstance(d, SimConfig):
            return d
        d = dict(d or {})
        orgs = {k.lower(): OrgConfig.from_dict(v) for k, v in (d.pop("orgs", {}) or {}).items()}
        apps = {str(k): str(v) for k, v in (d.pop("apps", {}) or {}).items()}
        return cls(orgs=orgs, apps=apps, **d)
