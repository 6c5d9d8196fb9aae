"""Billing and seats routes (seats paginated with a Link header, on the request's origin or another)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from simulators import github_data as data
from simulators.github.responses import _error, _json
from simulators.github.rest import _billing_refusal, _Ctx, _rest
from simulators.github.state import SimState


async def billing(request: Request) -> Response:
    async def handler(request: Request, state: SimState, ctx: _Ctx) -> Response:
        refused = _billing_refusal(state, ctx, "billing")
        if refused is not None:
            return refused
        body = await asyncio.to_thread(data.billing, ctx.org, ctx.oc.seats, state.today())
        return _json(body, 200, ctx.rate, ctx.version)

    return await _rest(request, "billing", None, handler)


async def seats(request: Request) -> Response:
    async def handler(request: Request, state: SimState, ctx: _Ctx) -> Response:
        refused = _billing_refusal(state, ctx, "seats")
        if refused is not None:
            return refused
        try:
            page = max(1, int(request.query_params.get("page", "1")))
            per_page = min(100, max(1, int(request.query_params.get("per_page", "50"))))
        except ValueError:
            return _error(422, "Invalid request.\n\npage and per_page must be integers.", ctx.rate)
        total = ctx.oc.seats
        rows = await asyncio.to_thread(data.seats_page, ctx.org, total, state.today(), page, per_page,
                                       ctx.oc.enterprise_every)
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
