"""Admin routes under ``/_sim`` (no auth): faults, the request log, reset, config."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from simulators.anthropic.messages import _state
from simulators.anthropic.state import FAULT_MODES, Fault


async def sim_faults(request: Request) -> Response:
    state = _state(request)
    if request.method == "DELETE":
        state.faults.clear()
        return JSONResponse({"faults": []})
    body = await request.json()
    mode = str(body.get("mode", ""))
    if mode not in FAULT_MODES:
        return JSONResponse({"error": f"unknown mode {mode!r}", "modes": list(FAULT_MODES)}, status_code=400)
    state.faults.append(Fault(mode=mode, times=int(body.get("times", 1)),
                              retry_after=float(body.get("retry_after", 1.0))))
    return JSONResponse({"faults": [f.__dict__ for f in state.faults]})


async def sim_requests(request: Request) -> Response:
    return JSONResponse(_state(request).requests)


async def sim_reset(request: Request) -> Response:
    state = _state(request)
    state.faults.clear()
    state.requests.clear()
    state.cache.clear()
    state.batches.clear()
    return JSONResponse({"ok": True})


async def sim_config(request: Request) -> Response:
    state = _state(request)
    body = await request.json()
    if "batch_processing_seconds" in body:
        state.batch_processing_seconds = float(body["batch_processing_seconds"])
    return JSONResponse({"batch_processing_seconds": state.batch_processing_seconds})
