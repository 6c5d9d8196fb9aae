"""Local GitHub Copilot REST simulator (reports API, billing, seats, signed download host).

    python -m simulators.github --port 8787 --config sim.json

Config JSON = SimConfig: {"orgs": {"acme": {"tokens": ["t"], "seats": 50, "faults": [...]}}, "auto_orgs": false}.
State lives in ``app.state.sim`` (a SimState) so in-process tests can configure it directly; the admin
endpoints under ``/_sim`` (no auth) do the same over HTTP. The request log never stores a raw token.

As strict as GitHub documents (reference/github-copilot-api.md §6), never kinder, and no invented rule:
- no seat-count rule: an org with 1–4 seats is served normally; with 0 seats the 1-day reports answer 204;
  GitHub teams with fewer than 5 Copilot users are absent from user-teams-1-day (documented);
- "Copilot usage metrics" policy off (``metrics_policy: false``) → every report endpoint answers 403 with the
  policy message; no Copilot subscription (``copilot_subscription: false``) → billing/seats answer 404
  "Copilot Business is not enabled for this organization.", the reports 404 Not Found;
- days not ready (newer than today − ready_lag_days) or before the history floor answer 204 or 404, chosen
  per (org, report, day) from a sha256 seed (``not_ready_status``: "mixed" | "204" | "404");
- REST routes are also served under ``/organizations/{org}/...`` and downloads under ``/_dl/...``: the targets
  of the "redirect" (same origin) and "redirect_other_host" (127.0.0.1 ↔ localhost, same port) faults, which
  never redirect again.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from simulators import github_data as data

API_VERSIONS = ("2022-11-28", "2026-03-10")
DEFAULT_API_VERSION = "2022-11-28"
DOCS = "https://docs.github.com/rest/copilot/copilot-usage-metrics"
ONE_DAY_REPORTS = ("organization-1-day", "users-1-day", "user-teams-1-day")
LATEST_REPORTS = ("organization-28-day", "users-28-day")
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

MSG_POLICY = "The 'Copilot usage metrics' policy must be enabled to use this API"
# legacy metrics API's 422 when its policy was off (reference §2.4)
MSG_LEGACY_POLICY = "Copilot Usage Metrics API setting is disabled at the organization or enterprise level."
MSG_NO_SUBSCRIPTION = "Copilot Business is not enabled for this organization."
MSG_PERMISSIONS = "Insufficient permissions. This action requires admin, or relevant organization role access."
MSG_SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID."
)
MSG_PRIMARY = "API rate limit exceeded for user ID 1. If you reach out to GitHub Support, include the request ID."


# ---------------------------------------------------------------- config


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


@dataclass
class OrgConfig:
    tokens: list[str] | None = None  # None → ["sim-token-<org>"]
    seats: int = 50
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
        cfg = cls(**d, faults=faults)
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

    @classmethod
    def from_dict(cls, d: dict[str, Any] | SimConfig | None) -> SimConfig:
        if isinstance(d, SimConfig):
            return d
        d = dict(d or {})
        orgs = {k.lower(): OrgConfig.from_dict(v) for k, v in (d.pop("orgs", {}) or {}).items()}
        return cls(orgs=orgs, **d)


# ---------------------------------------------------------------- state


def token_prefix(token: str | None) -> str | None:
    if not token:
        return None
    return hashlib.sha256(token.encode()).hexdigest()[:12]


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
            )
            self.requests: list[dict[str, Any]] = []
            self.counts: dict[str, int] = {}
            self.in_flight: dict[str, int] = {}
            self.peak: dict[str, int] = {}

    # -- configuration
    def set_org(self, org: str, cfg: OrgConfig | dict[str, Any] | None = None, **kw: Any) -> OrgConfig:
        if cfg is None:
            cfg = kw
        oc = OrgConfig.from_dict(cfg)
        with self.lock:
            self.config.orgs[org.lower()] = oc
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
        entry = {
            "method": request.method,
            "host": request.url.netloc,
            "path": request.url.path,
            "org": org,
            "endpoint_kind": kind,
            "token_sha256_prefix": token_prefix(token),
            "had_authorization": "authorization" in request.headers,
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


# ---------------------------------------------------------------- responses


def _rate_headers(state: SimState, org: str | None, remaining: int | None = None) -> dict[str, str]:
    used = state.counts.get(org or "", 0)
    rem = max(0, 5000 - used) if remaining is None else remaining
    reset = int(time.time()) // 3600 * 3600 + 3600
    return {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": str(rem),
        "x-ratelimit-used": str(5000 - rem),
        "x-ratelimit-reset": str(reset),
        "x-ratelimit-resource": "core",
    }


def _json(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None, version: str = DEFAULT_API_VERSION
) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    h = {"x-github-api-version-selected": version, "x-github-media-type": "github.v3; format=json"}
    h.update(headers or {})
    return Response(body, status_code=status, headers=h, media_type="application/json; charset=utf-8")


def _error(status: int, message: str, headers: dict[str, str] | None = None, **kw: Any) -> Response:
    return _json({"message": message, "documentation_url": DOCS, "status": str(status)}, status, headers, **kw)


def _fault_response(f: Fault, rate: dict[str, str], version: str) -> Response | None:
    m = f.mode
    if m == "401":
        return _error(401, "Bad credentials", rate, version=version)
    if m == "403_policy":
        return _error(403, MSG_POLICY, rate, version=version)
    if m == "403_permissions":
        return _error(403, MSG_PERMISSIONS, rate, version=version)
    if m == "404":
        return _error(404, "Not Found", rate, version=version)
    if m == "422":
        msg = "There is a problem with your account's associated payment method"
        return _error(422, msg, rate, version=version)
    if m == "422_policy":
        return _error(422, MSG_LEGACY_POLICY, rate, version=version)
    if m == "429":  # primary limit: remaining 0, reset and retry-after headers
        ra = 1 if f.retry_after is None else f.retry_after
        h = {**rate, "x-ratelimit-remaining": "0", "x-ratelimit-used": "5000", "retry-after": str(ra)}
        return _error(429, MSG_PRIMARY, h, version=version)
    if m == "secondary_limit":  # GitHub may or may not send retry-after (reference §4.4); default: none
        h = dict(rate)
        if f.retry_after is not None:
            h["retry-after"] = str(f.retry_after)
        return _error(f.status or 403, MSG_SECONDARY, h, version=version)
    if m in ("500", "502", "503"):
        msgs = {"500": "Server Error", "502": "Bad Gateway", "503": "Service Unavailable"}
        return _error(int(m), msgs[m], rate, version=version)
    return None


def _other_host(netloc: str) -> str:
    """127.0.0.1 ↔ localhost, same port: another origin served by the same simulator."""
    host, sep, port = netloc.rpartition(":") if netloc.count(":") == 1 else (netloc, "", "")
    other = "localhost" if host == "127.0.0.1" else "127.0.0.1"
    return f"{other}{sep}{port}"


def _redirect(request: Request, f: Fault, alias_path: str) -> Response:
    """The same request under an alias path the simulator also serves (and never redirects: no loop):
    "redirect" on the same origin, "redirect_other_host" on another origin."""
    target = request.url.replace(path=alias_path)
    if f.mode == "redirect":
        return Response(status_code=f.status or 301, headers={"location": str(target)})
    target = target.replace(netloc=_other_host(request.url.netloc))
    return Response(status_code=f.status or 307, headers={"location": str(target)})


def _alias_path(path: str) -> str | None:
    """/orgs/{org}/... → /organizations/{org}/... ; None when the request is already on the alias."""
    if path.startswith("/orgs/"):
        return "/organizations/" + path[len("/orgs/") :]
    return None


# ---------------------------------------------------------------- request pipeline


class _Ctx:
    def __init__(self, org: str, oc: OrgConfig, version: str, rate: dict[str, str]) -> None:
        self.org = org
        self.oc = oc
        self.version = version
        self.rate = rate


async def _rest(request: Request, kind: str, day: str | None, handler: Any) -> Response:
    """Common REST path: headers, auth, faults, latency, logging, in-flight accounting."""
    state: SimState = request.app.state.sim
    org = request.path_params.get("org", "").lower()
    oc = state.org(org) if org else None
    state.enter(org if oc else None)
    status = 500
    try:
        latency = state.config.latency_ms + (oc.latency_ms if oc else 0)
        if latency:
            await asyncio.sleep(latency / 1000)
        resp = await _rest_inner(request, state, org, oc, kind, day, handler)
        status = resp.status_code
        return resp
    finally:
        state.leave(org if oc else None)
        state.log(request, org or None, kind, status)


async def _rest_inner(
    request: Request, state: SimState, org: str, oc: OrgConfig | None, kind: str, day: str | None, handler: Any
) -> Response:
    if not request.headers.get("user-agent"):
        return _error(
            403,
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header.",
        )
    version = request.headers.get("x-github-api-version") or DEFAULT_API_VERSION
    if version not in API_VERSIONS:
        return _error(400, f"API version {version} is not supported.")
    if oc is None:
        return _error(404, "Not Found", version=version)
    token = _bearer(request)
    if token is None:
        return _error(401, "Requires authentication", version=version)
    if token not in state.tokens(org, oc):
        return _error(401, "Bad credentials", version=version)
    rate = _rate_headers(state, org)
    alias = _alias_path(request.url.path)
    modes = RESPONSE_MODES if alias is not None else tuple(m for m in RESPONSE_MODES if m not in REDIRECT_MODES)
    f = state.take_fault(oc, kind, day, modes)
    if f is not None:
        if f.mode == "slow":
            await asyncio.sleep(f.delay_s)
        elif f.mode in REDIRECT_MODES:
            return _redirect(request, f, alias or request.url.path)
        else:
            resp = _fault_response(f, rate, version)
            if resp is not None:
                return resp
    ctx = _Ctx(org, oc, version, rate)
    return await handler(request, state, ctx)


def _check_day(request: Request) -> tuple[str | None, Response | None]:
    raw = request.query_params.get("day")
    if raw is None:
        return None, _error(422, 'Invalid request.\n\n"day" is a required query parameter.')
    try:
        date.fromisoformat(raw)
    except ValueError:
        return None, _error(422, f"Invalid request.\n\n{raw!r} is not a valid date (YYYY-MM-DD).")
    return raw, None


def _b64(d: dict[str, Any]) -> str:
    raw = json.dumps(d, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(s: str) -> dict[str, Any]:
    pad = "=" * (-len(s) % 4)
    return json.loads(base64.urlsafe_b64decode(s + pad))


def _links(
    request: Request, state: SimState, ctx: _Ctx, report: str, payload: dict[str, Any], corruption: str | None
) -> list[str]:
    base = str(request.base_url).rstrip("/")
    now = int(time.time())
    if corruption == "expired_link":
        st, se = now - 7200, now - 3600
    else:
        st, se = now - 60, now + ctx.oc.link_ttl_seconds
    n = ctx.oc.shards if report != "organization-28-day" and report != "organization-1-day" else 1
    out = []
    for k in range(n):
        c = corruption if corruption in ("malformed_ndjson", "truncated_shard") and k == n - 1 else None
        opaque = _b64({**payload, "o": ctx.org, "r": report, "k": k, "n": n, "c": c})
        sig = state.sign(opaque, st, se)
        out.append(f"{base}/_downloads/{opaque}?sv=2026-01-01&st={st}&se={se}&sp=r&sig={sig}")
    return out


def _report_access(ctx: _Ctx) -> Response | None:
    """No Copilot subscription → 404; the "Copilot usage metrics" policy off → 403 (reference §1.7)."""
    if not ctx.oc.copilot_subscription:
        return _error(404, "Not Found", ctx.rate, version=ctx.version)
    if not ctx.oc.metrics_policy:
        return _error(403, MSG_POLICY, ctx.rate, version=ctx.version)
    return None


def _billing_access(ctx: _Ctx) -> Response | None:
    if not ctx.oc.copilot_subscription:
        return _error(404, MSG_NO_SUBSCRIPTION, ctx.rate, version=ctx.version)
    return None


def _no_content(ctx: _Ctx) -> Response:
    return Response(status_code=204, headers={**ctx.rate, "x-github-api-version-selected": ctx.version})


def _not_ready(ctx: _Ctx, report: str, day: str) -> Response:
    """A day GitHub has no report for (yet): 204 or 404 (reference §1.2), per ``not_ready_status``."""
    mode = ctx.oc.not_ready_status
    status = data.not_ready_status(ctx.org, report, date.fromisoformat(day)) if mode == "mixed" else int(mode)
    if status == 404:
        return _error(404, "Not Found", ctx.rate, version=ctx.version)
    return _no_content(ctx)


def _envelope_fault(state: SimState, ctx: _Ctx, report: str, day: str | None) -> tuple[Response | None, str | None]:
    f = state.take_fault(ctx.oc, report, day, ENVELOPE_MODES)
    if f is None:
        return None, None
    if f.mode == "no_content":
        return _no_content(ctx), None
    if f.mode == "string_body":
        return _json("No report available", 200, ctx.rate, ctx.version), None
    if f.mode == "empty_body":  # 200 with no body at all
        return Response(b"", 200, headers=ctx.rate, media_type="application/json; charset=utf-8"), None
    if f.mode == "malformed_json":
        body = b'{"download_links": ["https://copilot-reports.github.com/x"'
        return Response(body, 200, headers=ctx.rate, media_type="application/json; charset=utf-8"), None
    return None, f.mode


async def one_day_report(request: Request) -> Response:
    report = request.path_params["report"]
    if report not in ONE_DAY_REPORTS:
        if report in LATEST_REPORTS:
            return await _rest(request, report, None, _latest_needed)
        return await _rest(request, "unknown", None, _not_found)
    day_raw = request.query_params.get("day")

    async def handler(request: Request, state: SimState, ctx: _Ctx) -> Response:
        denied = _report_access(ctx)
        if denied is not None:
            return denied
        day, bad = _check_day(request)
        if bad is not None:
            return bad
        assert day is not None
        d = date.fromisoformat(day)
        today = state.today()
        floor = date.fromisoformat(ctx.oc.history_start) if ctx.oc.history_start else today - timedelta(days=365)
        if report == "user-teams-1-day" and ctx.oc.user_teams_start:
            floor = max(floor, date.fromisoformat(ctx.oc.user_teams_start))
        if d < floor or d > today - timedelta(days=ctx.oc.ready_lag_days):
            return _not_ready(ctx, report, day)
        if ctx.oc.seats == 0:  # nobody holds a seat: nothing to report that day
            return _no_content(ctx)
        resp, corruption = _envelope_fault(state, ctx, report, day)
        if resp is not None:
            return resp
        links = _links(request, state, ctx, report, {"d": day}, corruption)
        return _json({"download_links": links, "report_day": day}, 200, ctx.rate, ctx.version)

    return await _rest(request, report, day_raw, handler)


async def _not_found(request: Request, state: SimState, ctx: _Ctx) -> Response:
    return _error(404, "Not Found", ctx.rate, version=ctx.version)


async def _latest_needed(request: Request, state: SimState, ctx: _Ctx) -> Response:
    denied = _report_access(ctx)
    if denied is not None:
        return denied
    return _error(404, "Not Found", ctx.rate, version=ctx.version)


async def latest_report(request: Request) -> Response:
    report = request.path_params["report"]
    if report not in LATEST_REPORTS:
        return await _rest(request, "unknown", None, _not_found)

    async def handler(request: Request, state: SimState, ctx: _Ctx) -> Response:
        denied = _report_access(ctx)
        if denied is not None:
            return denied
        today = state.today()
        end = today - timedelta(days=max(ctx.oc.ready_lag_days, 1))
        start = end - timedelta(days=27)
        if ctx.oc.history_start:
            start = max(start, date.fromisoformat(ctx.oc.history_start))
        resp, corruption = _envelope_fault(state, ctx, report, None)
        if resp is not None:
            return resp
        payload = {"sd": start.isoformat(), "ed": end.isoformat()}
        links = _links(request, state, ctx, report, payload, corruption)
        body = {"download_links": links, "report_start_day": start.isoformat(), "report_end_day": end.isoformat()}
        return _json(body, 200, ctx.rate, ctx.version)

    return await _rest(request, report, None, handler)


async def legacy_metrics(request: Request) -> Response:
    return await _rest(request, "legacy_metrics", None, _not_found)


async def billing(request: Request) -> Response:
    async def handler(request: Request, state: SimState, ctx: _Ctx) -> Response:
        denied = _billing_access(ctx)
        if denied is not None:
            return denied
        resp, _ = _envelope_fault(state, ctx, "billing", None)
        if resp is not None:
            return resp
        body = await asyncio.to_thread(data.billing, ctx.org, ctx.oc.seats, state.today())
        return _json(body, 200, ctx.rate, ctx.version)

    return await _rest(request, "billing", None, handler)


async def seats(request: Request) -> Response:
    async def handler(request: Request, state: SimState, ctx: _Ctx) -> Response:
        denied = _billing_access(ctx)
        if denied is not None:
            return denied
        resp, _ = _envelope_fault(state, ctx, "seats", None)
        if resp is not None:
            return resp
        try:
            page = max(1, int(request.query_params.get("page", "1")))
            per_page = min(100, max(1, int(request.query_params.get("per_page", "50"))))
        except ValueError:
            return _error(422, "Invalid request.\n\npage and per_page must be integers.", ctx.rate)
        total = ctx.oc.seats
        rows = await asyncio.to_thread(data.seats_page, ctx.org, total, state.today(), page, per_page)
        last = max(1, -(-total // per_page))
        base = f"{_link_origin(request, ctx.oc.seats_link_host)}/orgs/{ctx.org}/copilot/billing/seats"
        links = []
        if page < last:
            links.append(f'<{base}?page={page + 1}&per_page={per_page}>; rel="next"')
            links.append(f'<{base}?page={last}&per_page={per_page}>; rel="last"')
        if page > 1:
            links.append(f'<{base}?page=1&per_page={per_page}>; rel="first"')
            links.append(f'<{base}?page={page - 1}&per_page={per_page}>; rel="prev"')
        headers = dict(ctx.rate)
        if links:
            headers["link"] = ", ".join(links)
        return _json({"total_seats": total, "seats": rows}, 200, headers, ctx.version)

    return await _rest(request, "seats", None, handler)


def _link_origin(request: Request, host: str | None) -> str:
    """The origin of seats Link URLs: the request's own, or ``seats_link_host`` (another origin)."""
    if not host:
        return str(request.base_url).rstrip("/")
    if "://" in host:
        return host.rstrip("/")
    if ":" not in host and request.url.port:
        host = f"{host}:{request.url.port}"
    return f"{request.url.scheme}://{host}"


# ---------------------------------------------------------------- download host


def _xml_denied(detail: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code>'
        f"<Message>Server failed to authenticate the request. {detail}</Message></Error>"
    )
    return Response(body, status_code=403, media_type="application/xml")


def _shard_lines(meta: dict[str, Any], oc: OrgConfig) -> Iterator[bytes]:
    org, report, k, n = meta["o"], meta["r"], meta["k"], meta["n"]
    seats = oc.seats
    if report == "organization-1-day":
        rows: Iterator[dict] = iter([data.org_day(org, date.fromisoformat(meta["d"]), seats)])
    elif report == "users-1-day":
        rows = data.users_1_day_rows(org, date.fromisoformat(meta["d"]), seats, k, n)
    elif report == "user-teams-1-day":
        rows = data.user_teams_rows(org, date.fromisoformat(meta["d"]), seats, k, n)
    elif report == "organization-28-day":
        start, end = date.fromisoformat(meta["sd"]), date.fromisoformat(meta["ed"])
        rows = iter([data.org_28_day(org, start, end, seats)])
    else:
        start, end = date.fromisoformat(meta["sd"]), date.fromisoformat(meta["ed"])
        rows = data.users_28_day_rows(org, start, end, seats, k, n)
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    for row in rows:
        yield dumps(row).encode() + b"\n"


def _stream_body(meta: dict[str, Any], oc: OrgConfig) -> Iterator[bytes]:
    corruption = meta.get("c")
    buf: list[bytes] = []
    size = 0
    count = 0
    for line in _shard_lines(meta, oc):
        count += 1
        if corruption == "malformed_ndjson" and count == 2:
            buf.append(b"this is {not json\n")
        buf.append(line)
        size += len(line)
        if size >= 65536:
            yield b"".join(buf)
            buf, size = [], 0
    if corruption == "malformed_ndjson" and count < 2:
        buf.append(b"this is {not json\n")
    if corruption == "truncated_shard":
        joined = b"".join(buf)
        if not joined:
            joined = b'{"user_id": 1, "user_lo'
        else:
            joined = joined.rstrip(b"\n")
            joined = joined[: max(1, len(joined) - max(5, len(joined.rsplit(b"\n", 1)[-1]) // 2))]
        yield joined
        return
    if buf:
        yield b"".join(buf)


async def download(request: Request) -> Response:
    state: SimState = request.app.state.sim
    opaque = request.path_params["opaque"]
    org: str | None = None
    status = 500
    try:
        q = request.query_params
        try:
            st, se, sig = int(q.get("st", "")), int(q.get("se", "")), q.get("sig", "")
            meta = _unb64(opaque)
            org = str(meta["o"])
        except (ValueError, KeyError, TypeError):
            status = 403
            return _xml_denied("Signature fields not well formed.")
        oc = state.org(org)
        state.enter(org)
        try:
            if not hmac.compare_digest(sig, state.sign(opaque, st, se)):
                status = 403
                return _xml_denied("Signature did not match.")
            if time.time() > se:
                status = 403
                return _xml_denied("Signed expiry time has passed.")
            if oc is None:
                status = 404
                return Response("The specified blob does not exist.", status_code=404)
            latency = state.config.latency_ms + oc.latency_ms
            if latency:
                await asyncio.sleep(latency / 1000)
            on_alias = request.url.path.startswith("/_dl/")
            modes = tuple(m for m in (*RESPONSE_MODES, "expired_link") if not (on_alias and m in REDIRECT_MODES))
            f = state.take_fault(oc, "download", meta.get("d"), modes)
            if f is not None:
                if f.mode == "expired_link" or f.mode.startswith("403") or f.mode == "401":
                    status = 403
                    return _xml_denied("Signed expiry time has passed.")
                if f.mode in REDIRECT_MODES:  # only with endpoint="download" (Fault.matches)
                    resp = _redirect(request, f, "/_dl/" + opaque)
                    status = resp.status_code
                    return resp
                if f.mode == "slow":
                    await asyncio.sleep(f.delay_s)
                else:
                    resp = _fault_response(f, {}, DEFAULT_API_VERSION)
                    if resp is not None:
                        status = resp.status_code
                        return resp
            status = 200
            return StreamingResponse(_stream_body(meta, oc), media_type="application/x-ndjson")
        finally:
            state.leave(org)
    finally:
        state.log(request, org, "download", status)


# ---------------------------------------------------------------- admin


async def admin_org(request: Request) -> Response:
    state: SimState = request.app.state.sim
    try:
        body = await request.json()
        oc = state.set_org(request.path_params["org"], body or {})
    except (ValueError, TypeError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse({"org": request.path_params["org"].lower(), "config": _org_to_dict(oc)})


async def admin_reset(request: Request) -> Response:
    request.app.state.sim.reset()
    return JSONResponse({"ok": True})


async def admin_requests(request: Request) -> Response:
    state: SimState = request.app.state.sim
    if request.method == "DELETE":
        state.clear_requests()
        return JSONResponse({"ok": True})
    return JSONResponse(state.request_log())


async def admin_stats(request: Request) -> Response:
    return JSONResponse(request.app.state.sim.stats())


def create_app(config: SimConfig | dict | None = None) -> Starlette:
    rest = [
        ("/copilot/metrics/reports/{report}/latest", latest_report),
        ("/copilot/metrics/reports/{report}", one_day_report),
        ("/copilot/metrics", legacy_metrics),
        ("/team/{team}/copilot/metrics", legacy_metrics),
        ("/copilot/billing", billing),
        ("/copilot/billing/seats", seats),
    ]
    routes = [
        # /organizations/{org}/... is the alias "redirect" faults point at (same handlers)
        *(Route(prefix + "/{org}" + path, handler) for prefix in ("/orgs", "/organizations") for path, handler in rest),
        Route("/_downloads/{opaque}", download),
        Route("/_dl/{opaque}", download),
        Route("/_sim/orgs/{org}", admin_org, methods=["POST"]),
        Route("/_sim/reset", admin_reset, methods=["POST"]),
        Route("/_sim/requests", admin_requests, methods=["GET", "DELETE"]),
        Route("/_sim/stats", admin_stats),
    ]
    app = Starlette(routes=routes)
    app.state.sim = SimState(config)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulators.github", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--config", help="JSON file with a SimConfig")
    parser.add_argument("--auto-orgs", action="store_true", help="accept any org with token sim-token-<org>")
    args = parser.parse_args(argv)
    cfg: dict[str, Any] = {}
    if args.config:
        with open(args.config, encoding="utf-8") as fh:
            cfg = json.load(fh)
    if args.auto_orgs:
        cfg["auto_orgs"] = True
    import uvicorn

    uvicorn.run(create_app(cfg), host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
