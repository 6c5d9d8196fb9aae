"""``POST /v1/messages``, and what every API route shares: the state, the JSON body, the request log."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from simulators.anthropic.answers import answer
from simulators.anthropic.state import HTTP_FAULTS, SimError, SimState
from simulators.anthropic.validation import _check_auth, validate_params


def _state(request: Request) -> SimState:
    return request.app.state.sim


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError as exc:
        raise SimError(400, "invalid_request_error", "body: invalid JSON") from exc


def _log(state: SimState, request: Request, key_id: str | None, status: int, body: Any = None) -> None:
    state.requests.append({
        "at": datetime.now(UTC).isoformat(),
        "method": request.method,
        "path": request.url.path,
        "key_sha256": key_id,
        "anthropic_version": request.headers.get("anthropic-version"),
        "status": status,
        "body": body,
    })


async def create_message(request: Request) -> Response:
    state = _state(request)
    key_id = body = None
    try:
        key_id = _check_auth(request)
        body = validate_params(await _json(request))
        fault = state.take_fault()
        if fault and fault.mode in HTTP_FAULTS:
            status, etype, message = HTTP_FAULTS[fault.mode]
            headers = {"retry-after": f"{fault.retry_after:g}"} if fault.mode == "429" else {}
            raise SimError(status, etype, message, headers)
        message = answer(state, body, key_id, fault, "standard")
    except SimError as err:
        _log(state, request, key_id, err.status, body)
        return err.response()
    _log(state, request, key_id, 200, body)
    return JSONResponse(message, headers={"request-id": f"req_sim_{uuid.uuid4().hex[:16]}"})
