"""``SimState``: the live configuration, fault counters, request log (never a raw token or JWT) and in-flight
stats, the signing of download links, and the GitHub App installation tokens it issued (with their own
clock, which tests move forward to expire them)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from starlette.requests import Request

from simulators.github.config import Fault, Installation, OrgConfig, SimConfig


def token_prefix(token: str | None) -> str | None:
    if not token:
        return None
    return hashlib.sha256(token.encode()).hexdigest()[:12]


@dataclass
class IssuedToken:
    """An installation token the simulator issued: for which org and installation, until when (the App
    clock), with the permissions granted at issue time."""

    org: str
    installation_id: int
    expires_at: float
    permissions: dict[str, str]


class SimState:
    def __init__(self, config: SimConfig | dict | None = None) -> None:
        self._initial = SimConfig.from_dict(config)
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            cfg = self._initial
            self.config = SimConfig(
                orgs={k: OrgConfig.from_dict(_org_to_dict(v)) for k, v in cfg.orgs.items()},
                auto_orgs=cfg.auto_orgs,
                latency_ms=cfg.latency_ms,
                secret=cfg.secret,
                today=cfg.today,
                apps=dict(cfg.apps),
                installation_token_ttl_seconds=cfg.installation_token_ttl_seconds,
            )
            self.issued: dict[str, IssuedToken] = {}  # installation token → what it is (in memory only)
            self.clock_offset = 0.0  # seconds the App clock (JWTs, installation tokens) runs ahead
            self.requests: list[dict[str, Any]] = []
            self.counts: dict[str, int] = {}
            self.in_flight: dict[str, int] = {}
            self.peak: dict[str, int] = {}
            # report files rendered ahead of time (``/_sim/prerender``): render key → the chunks to send
            self.rendered: dict[tuple, list[bytes]] = {}

    # -- configuration
    def set_org(self, org: str, cfg: OrgConfig | dict[str, Any] | None = None, **kw: Any) -> OrgConfig:
        if cfg is None:
            cfg = kw
        oc = OrgConfig.from_dict(cfg)
        with self.lock:
            self.config.orgs[org.lower()] = oc
            for key in [k for k in self.rendered if k[0] == org.lower()]:  # rendered for the old config
                del self.rendered[key]
        return oc

    def org(self, org: str) -> OrgConfig | None:
        with self.lock:
            oc = self.config.orgs.get(org.lower())
            if oc is None and self.config.auto_orgs:
                oc = OrgConfig()
                self.config.orgs[org.lower()] = oc
            return oc

    def tokens(self, org: str, oc: OrgConfig) -> list[str]:
        return oc.tokens if oc.tokens is not None else [f"sim-token-{org.lower()}"]

    def today(self) -> date:
        if self.config.today:
            return date.fromisoformat(self.config.today)
        return datetime.now(UTC).date()

    def take_fault(self, oc: OrgConfig, kind: str, day: str | None, modes: tuple[str, ...]) -> Fault | None:
        with self.lock:
            for f in oc.faults:
                if f.mode in modes and f.matches(kind, day):
                    if f.times is not None:
                        f.times -= 1
                    return f
        return None

    # -- GitHub Apps
    def now(self) -> float:
        """The App clock (epoch seconds): JWT times and installation-token expiry are judged by it."""
        with self.lock:
            return time.time() + self.clock_offset

    def advance_clock(self, seconds: float) -> float:
        with self.lock:
            self.clock_offset += float(seconds)
            return self.clock_offset

    def installation(self, installation_id: int) -> tuple[str, Installation] | None:
        """(org, installation) of an installation id, installed or not."""
        with self.lock:
            for org, oc in self.config.orgs.items():
                inst = oc.app_installation
                if inst is not None and inst.installation_id == int(installation_id):
                    return org, inst
        return None

    def issue_token(self, org: str, inst: Installation) -> tuple[str, IssuedToken]:
        token = "ghs_" + secrets.token_urlsafe(27).replace("-", "A").replace("_", "B")
        issued = IssuedToken(org=org, installation_id=inst.installation_id,
                             expires_at=self.now() + self.config.installation_token_ttl_seconds,
                             permissions=dict(inst.permissions))
        with self.lock:
            self.issued[token] = issued
        return token, issued

    def issued_token(self, token: str | None) -> IssuedToken | None:
        if not token:
            return None
        with self.lock:
            return self.issued.get(token)

    def update_installation(self, installation_id: int, *, installed: bool | None = None,
                            permissions: dict[str, str] | None = None, expire_tokens: bool = False) -> Installation:
        """The admin switch: uninstall (or reinstall), change the granted permissions (tokens issued from now
        on carry them), expire the installation's tokens now."""
        found = self.installation(installation_id)
        if found is None:
            raise KeyError(f"no installation {installation_id}")
        _, inst = found
        with self.lock:
            if installed is not None:
                inst.installed = bool(installed)
            if permissions is not None:
                inst.permissions = {str(k): str(v) for k, v in permissions.items()}
            if expire_tokens or installed is False:
                now = time.time() + self.clock_offset
                for issued in self.issued.values():
                    if issued.installation_id == inst.installation_id:
                        issued.expires_at = min(issued.expires_at, now)
        return inst

    # -- request log / stats
    def enter(self, org: str | None) -> None:
        if not org:
            return
        with self.lock:
            self.counts[org] = self.counts.get(org, 0) + 1
            n = self.in_flight.get(org, 0) + 1
            self.in_flight[org] = n
            self.peak[org] = max(self.peak.get(org, 0), n)

    def leave(self, org: str | None) -> None:
        if not org:
            return
        with self.lock:
            self.in_flight[org] = max(0, self.in_flight.get(org, 0) - 1)

    def log(self, request: Request, org: str | None, kind: str, status: int) -> None:
        token = _bearer(request)
        auth = None
        if token:
            auth = "installation" if self.issued_token(token) else ("jwt" if token.count(".") == 2 else "token")
        entry = {
            "method": request.method,
            "host": request.url.netloc,
            "path": request.url.path,
            "org": org,
            "endpoint_kind": kind,
            "token_sha256_prefix": token_prefix(token),
            "had_authorization": "authorization" in request.headers,
            "auth": auth,  # token | installation | jwt | None: what kind of credential came, never its value
            "status": status,
            "ts": time.time(),
        }
        with self.lock:
            self.requests.append(entry)

    def request_log(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self.requests]

    def clear_requests(self) -> None:
        with self.lock:
            self.requests.clear()

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": dict(self.counts),
                "peak_in_flight": dict(self.peak),
                "in_flight": dict(self.in_flight),
            }

    # -- download link signing
    def sign(self, opaque: str, st: int, se: int) -> str:
        msg = f"{opaque}|{st}|{se}".encode()
        return hmac.new(self.config.secret.encode(), msg, hashlib.sha256).hexdigest()


def _org_to_dict(oc: OrgConfig) -> dict[str, Any]:
    d = asdict(oc)
    return d


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization")
    if not auth:
        return None
    parts = auth.split(None, 1)
    if len(parts) == 2 and parts[0].lower() in ("bearer", "token"):
        return parts[1].strip()
    return auth.strip()
