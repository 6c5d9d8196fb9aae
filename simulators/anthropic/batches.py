"""The Message Batches API: create a batch (each item answered at once, results shuffled), retrieve it, and
its results once processing has ended."""

from __future__ import annotations

import json
import random
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from simulators.anthropic.answers import answer
from simulators.anthropic.messages import _json, _log, _state
from simulators.anthropic.state import HTTP_FAULTS, Batch, SimError, SimState
from simulators.anthropic.validation import _check_auth, validate_params

CUSTOM_ID_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _batch_json(request: Request, batch: Batch) -> dict[str, Any]:
    ended = time.monotonic() >= batch.ready_at
    n = len(batch.results)
    counts = dict(batch.counts) if ended else {
        "processing": n, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0
    }
    base = str(request.base_url).rstrip("/")
    return {
        "id": batch.id,
        "type": "message_batch",
        "processing_status": "ended" if ended else "in_progress",
        "request_counts": counts,
        "created_at": batch.created_at.isoformat(),
        "expires_at": (batch.created_at + timedelta(hours=24)).isoformat(),
        "ended_at": datetime.now(UTC).isoformat() if ended else None,
        "cancel_initiated_at": None,
        "archived_at": None,
        "results_url": f"{base}/v1/messages/batches/{batch.id}/results" if ended else None,
    }


def _batch_item(state: SimState, req: Any, key_id: str) -> dict[str, Any]:
    custom_id = req["custom_id"]
    fault = state.take_fault()
    try:
        body = validate_params(req.get("params"))
    except SimError as err:
        return {"custom_id": custom_id, "result": {"type": "errored", "error": err.body()}}
    if fault and fault.mode == "expired":
        return {"custom_id": custom_id, "result": {"type": "expired"}}
    if fault and fault.mode in HTTP_FAULTS:
        status, etype, message = HTTP_FAULTS[fault.mode]
        return {"custom_id": custom_id,
                "result": {"type": "errored", "error": SimError(status, etype, message).body()}}
    try:
        message = answer(state, body, key_id, fault, "batch")
    except SimError as err:
        return {"custom_id": custom_id, "result": {"type": "errored", "error": err.body()}}
    return {"custom_id": custom_id, "result": {"type": "succeeded", "message": message}}


async def create_batch(request: Request) -> Response:
    state = _state(request)
    key_id = body = None
    try:
        key_id = _check_auth(request)
        body = await _json(request)
        if not isinstance(body, dict) or set(body) - {"requests"}:
            raise SimError(400, "invalid_request_error", "body: expected {requests: [...]}")
        reqs = body.get("requests")
        if not isinstance(reqs, list) or not reqs or len(reqs) > 100_000:
            raise SimError(400, "invalid_request_error", "requests: 1 to 100,000 requests are required")
        seen: set[str] = set()
        for i, req in enumerate(reqs):
            cid = req.get("custom_id") if isinstance(req, dict) else None
            if not isinstance(cid, str) or not CUSTOM_ID_RE.match(cid):
                raise SimError(400, "invalid_request_error",
                               f"requests.{i}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'")
            if cid in seen:
                raise SimError(400, "invalid_request_error", f"requests.{i}.custom_id: duplicate custom_id {cid}")
            if not isinstance(req.get("params"), dict):
                raise SimError(400, "invalid_request_error", f"requests.{i}.params: Field required")
            seen.add(cid)
        results = [_batch_item(state, req, key_id) for req in reqs]
        # results come back in no set order: shuffle, and never leave them in request order
        order = results[:]
        random.Random(len(order)).shuffle(order)
        if len(order) > 1 and [r["custom_id"] for r in order] == [r["custom_id"] for r in results]:
            order.reverse()
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        for r in order:
            counts[r["result"]["type"]] += 1
        batch = Batch(
            id=f"msgbatch_sim_{uuid.uuid4().hex[:20]}",
            created_at=datetime.now(UTC),
            ready_at=time.monotonic() + state.batch_processing_seconds,
            results=order,
            counts=counts,
        )
        state.batches[batch.id] = batch
    except SimError as err:
        _log(state, request, key_id, err.status, body)
        return err.response()
    _log(state, request, key_id, 200, body)
    return JSONResponse(_batch_json(request, batch))


def _get_batch(request: Request, *, ended: bool = False) -> Batch | Response:
    """The batch named in the path, for an authorized caller, or the error to answer (either way logged);
    ``ended``: its results are asked for, refused while it is still processing."""
    state = _state(request)
    key_id = None
    try:
        key_id = _check_auth(request)
        batch = state.batches.get(request.path_params["batch_id"])
        if batch is None:
            raise SimError(404, "not_found_error", "batch not found")
        if ended and time.monotonic() < batch.ready_at:
            raise SimError(400, "invalid_request_error", "batch is still processing")
    except SimError as err:
        _log(state, request, key_id, err.status)
        return err.response()
    _log(state, request, key_id, 200)
    return batch


async def retrieve_batch(request: Request) -> Response:
    batch = _get_batch(request)
    if isinstance(batch, Response):
        return batch
    return JSONResponse(_batch_json(request, batch))


async def batch_results(request: Request) -> Response:
    batch = _get_batch(request, ended=True)
    if isinstance(batch, Response):
        return batch
    text = "".join(json.dumps(r) + "\n" for r in batch.results)
    return Response(text, media_type="application/x-jsonl")
