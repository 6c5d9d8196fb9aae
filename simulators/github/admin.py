"""Admin routes under ``/_sim`` (no auth): configure an org, reset, the request log, stats."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from simulators.github.state import SimState, _org_to_dict


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
