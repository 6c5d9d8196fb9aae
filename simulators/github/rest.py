"""The request pipeline every REST route shares (headers, auth, faults, latency, logging, in-flight
accounting) and the gates of its handlers: report access, billing access, envelope faults, a checked day."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from simulators.github.apps import installation_refusal
from simulators.github.config import ENVELOPE_MODES, REDIRECT_MODES, RESPONSE_MODES, OrgConfig
from simulators.github.responses import (
    API_VERSIONS,
    DEFAULT_API_VERSION,
    MSG_NO_SUBSCRIPTION,
    MSG_POLICY,
    _alias_path,
    _error,
    _fault_response,
    _json,
    _rate_headers,
    _redirect,
)
from simulators.github.state import SimState, _bearer


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
    rate = _rate_headers(state, org)
    issued = state.issued_token(token)
    if issued is not None:  # a GitHub App installation token: its expiry, installation and permissions
        refused = installation_refusal(state, org, issued, kind, rate, version)
        if refused is not None:
            return refused
    elif token not in state.tokens(org, oc):
        return _error(401, "Bad credentials", version=version)
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


def _report_access(ctx: _Ctx) -> Response | None:
    """No Copilot subscription → 404; the "Copilot usage metrics" policy off → 403 (GitHub's access docs)."""
    if not ctx.oc.copilot_subscription:
        return _error(404, "Not Found", ctx.rate, version=ctx.version)
    if not ctx.oc.metrics_policy:
        return _error(403, MSG_POLICY, ctx.rate, version=ctx.version)
    return None


def _no_content(ctx: _Ctx) -> Response:
    return Response(status_code=204, headers={**ctx.rate, "x-github-api-version-selected": ctx.version})


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


async def _not_found(request: Request, state: SimState, ctx: _Ctx) -> Response:
    return _error(404, "Not Found", ctx.rate, version=ctx.version)


def _billing_refusal(state: SimState, ctx: _Ctx, kind: str) -> Response | None:
    """What billing and seats answer instead of their data: 404 without a Copilot subscription, else an
    envelope fault of that endpoint when one is due; None = serve the data."""
    if not ctx.oc.copilot_subscription:
        return _error(404, MSG_NO_SUBSCRIPTION, ctx.rate, version=ctx.version)
    resp, _ = _envelope_fault(state, ctx, kind, None)
    return resp
