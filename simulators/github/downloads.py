"""The signed download host: the links a report envelope hands out (HMAC-signed, with a lifetime) and the
report files behind them, streamed as NDJSON (with the corruptions of envelope faults)."""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from simulators import github_data as data
from simulators.github.config import REDIRECT_MODES, RESPONSE_MODES, OrgConfig
from simulators.github.responses import DEFAULT_API_VERSION, _fault_response, _redirect
from simulators.github.rest import _Ctx
from simulators.github.state import SimState


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
    n = shard_count(report, ctx.oc)
    out = []
    for k in range(n):
        c = corruption if corruption in ("malformed_ndjson", "truncated_shard") and k == n - 1 else None
        opaque = _b64({**payload, "o": ctx.org, "r": report, "k": k, "n": n, "c": c})
        sig = state.sign(opaque, st, se)
        out.append(f"{base}/_downloads/{opaque}?sv=2026-01-01&st={st}&se={se}&sp=r&sig={sig}")
    return out


def shard_count(report: str, oc: OrgConfig) -> int:
    """How many files (download links) a report comes in: the per-user reports in the org's shards, the
    organization reports in one."""
    return 1 if report in ("organization-1-day", "organization-28-day") else oc.shards


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
    for row in rows:
        yield orjson.dumps(row) + b"\n"


def render_key(meta: dict[str, Any], oc: OrgConfig) -> tuple:
    """What a report file's bytes depend on: org, report, shard k of n, its day or window, the org's seats."""
    return (str(meta["o"]).lower(), meta["r"], meta["k"], meta["n"], meta.get("d"), meta.get("sd"), meta.get("ed"),
            oc.seats)


async def _chunks(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def _body(state: SimState, meta: dict[str, Any], oc: OrgConfig) -> Iterator[bytes] | AsyncIterator[bytes]:
    """The file's chunks: rendered ahead of time when ``/_sim/prerender`` did (never for a corrupted link),
    else drawn now. The same bytes in the same chunks either way."""
    if meta.get("c") is None:
        with state.lock:
            chunks = state.rendered.get(render_key(meta, oc))
        if chunks is not None:
            return _chunks(chunks)
    return _stream_body(meta, oc)


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
            return StreamingResponse(_body(state, meta, oc), media_type="application/x-ndjson")
        finally:
            state.leave(org)
    finally:
        state.log(request, org, "download", status)
