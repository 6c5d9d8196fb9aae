"""Local Anthropic Messages API + Message Batches API simulator (tests, demo, benchmarks).

    python -m simulators.anthropic --port 8788

Point the real ``anthropic`` SDK at it with ``base_url`` / ``ANTHROPIC_BASE_URL``. It validates requests
like the real API (auth via ``x-api-key`` or ``Authorization: Bearer``; ``anthropic-version``; known
model; positive integer ``max_tokens``; non-empty ``messages``; no unknown top-level parameters;
``output_config.format`` a ``json_schema`` whose schema is an object schema using only the supported
subset, with ``additionalProperties: false`` on every object) and answers with schema-valid JSON built
from the FACTS in the user message: the JSON inside ``<data>…</data>``; only numbers from it are cited.

Usage includes prompt caching: a system prefix up to a ``cache_control`` breakpoint of at least 1,024
(estimated) tokens is written on first use (``cache_creation_input_tokens``) and read afterwards
(``cache_read_input_tokens``). Tokens are estimated as characters / 4.

Admin (no auth): ``POST /_sim/faults {"mode", "times": 1, "retry_after": 1.0}``,
``DELETE /_sim/faults``, ``POST /_sim/reset``, ``GET /_sim/requests`` (the request log; the API key is
stored only as a sha256 prefix), ``POST /_sim/config {"batch_processing_seconds"}``.

Fault modes: ``overloaded`` (529 overloaded_error), ``429`` (rate_limit_error + retry-after), ``500``
(api_error), ``invalid_json`` (text that is not JSON), ``refusal`` (stop_reason "refusal"),
``ungrounded`` (valid JSON citing the invented number 987654), ``wrong_schema`` (JSON that ignores the
schema), ``expired`` (batch items only). In a batch, each item consumes one fault: HTTP modes become
``errored`` results, content modes ``succeeded`` results with bad content.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

KNOWN_MODELS = (
    "claude-fable-5-2",
    "claude-mythos-5-2",
    "claude-haiku-5-5",
    "claude-sonnet-5-5",
    "claude-fable-5-1",
    "claude-opus-5-5",
    "claude-mythos-5-1",
    "claude-sonnet-5",
    "claude-fable-5",
    "claude-mythos-5",
    "claude-opus-5",
    "claude-opus-4-8",
    "claude-opus-4-7",
    "claude-opus-4-6",
    "claude-sonnet-4-6",
    "claude-haiku-4-5",
    "claude-haiku-4-5-20251001",
    "claude-opus-4-5",
    "claude-opus-4-5-20251101",
    "claude-sonnet-4-5",
    "claude-sonnet-4-5-20250929",
)
FAULT_MODES = ("overloaded", "429", "500", "invalid_json", "refusal", "ungrounded", "wrong_schema", "expired")
HTTP_FAULTS = {"overloaded": (529, "overloaded_error", "Overloaded"),
               "429": (429, "rate_limit_error", "Number of request tokens has exceeded your rate limit."),
               "500": (500, "api_error", "Internal server error")}
INVENTED_NUMBER = 987654
MIN_CACHEABLE_TOKENS = 1024
CUSTOM_ID_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MESSAGE_PARAMS = {
    "model", "max_tokens", "messages", "system", "metadata", "stop_sequences", "stream", "temperature",
    "top_k", "top_p", "tools", "tool_choice", "thinking", "output_config", "cache_control", "service_tier",
    "container", "diagnostics", "inference_geo", "speed",
}
SUPPORTED_SCHEMA_KEYS = {
    "type", "properties", "required", "items", "enum", "additionalProperties", "description", "title",
    "const", "anyOf", "$defs", "$ref", "default", "format",
}


class SimError(Exception):
    def __init__(self, status: int, etype: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.etype, self.message, self.headers = status, etype, message, headers or {}

    def body(self) -> dict[str, Any]:
        return {"type": "error", "error": {"type": self.etype, "message": self.message},
                "request_id": f"req_sim_{uuid.uuid4().hex[:16]}"}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


@dataclass
class Fault:
    mode: str
    times: int = 1
    retry_after: float = 1.0


@dataclass
class Batch:
    id: str
    created_at: datetime
    ready_at: float
    results: list[dict[str, Any]]
    counts: dict[str, int]


@dataclass
class SimState:
    batch_processing_seconds: float = 0.3
    faults: list[Fault] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    cache: set[str] = field(default_factory=set)
    batches: dict[str, Batch] = field(default_factory=dict)

    def take_fault(self) -> Fault | None:
        while self.faults:
            fault = self.faults[0]
            if fault.times == 0:
                self.faults.pop(0)
                continue
            if fault.times > 0:
                fault.times -= 1
            return fault
        return None


# ---------------------------------------------------------------- validation
def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _check_auth(request: Request) -> str:
    key = request.headers.get("x-api-key", "").strip()
    scheme = "x-api-key"
    if not key:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            key, scheme = auth[7:].strip(), "bearer"
    if not key:
        raise SimError(401, "authentication_error", "x-api-key header is required")
    if not request.headers.get("anthropic-version"):
        raise SimError(400, "invalid_request_error", "anthropic-version: header is required")
    return f"{scheme}:{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def _check_schema(schema: Any, path: str = "schema") -> None:
    if not isinstance(schema, dict):
        raise SimError(400, "invalid_request_error", f"output_config.format.{path}: must be an object")
    unsupported = set(schema) - SUPPORTED_SCHEMA_KEYS
    if unsupported:
        raise SimError(400, "invalid_request_error",
                       f"output_config.format.{path}: unsupported keyword(s) {sorted(unsupported)}")
    if schema.get("type") == "object":
        if schema.get("additionalProperties") is not False:
            raise SimError(400, "invalid_request_error",
                           f"output_config.format.{path}: additionalProperties must be false for objects")
        for name, sub in (schema.get("properties") or {}).items():
            _check_schema(sub, f"{path}.properties.{name}")
    if "items" in schema:
        _check_schema(schema["items"], f"{path}.items")
    for i, sub in enumerate(schema.get("anyOf") or []):
        _check_schema(sub, f"{path}.anyOf[{i}]")


def _check_text_block(block: Any, where: str) -> None:
    if not isinstance(block, dict) or block.get("type") != "text" or not isinstance(block.get("text"), str):
        raise SimError(400, "invalid_request_error", f"{where}: expected a text block")
    cc = block.get("cache_control")
    if cc is not None and (
        not isinstance(cc, dict) or cc.get("type") != "ephemeral" or cc.get("ttl", "5m") not in ("5m", "1h")
    ):
        raise SimError(400, "invalid_request_error", f"{where}.cache_control: invalid")


def validate_params(body: Any) -> dict[str, Any]:
    """Validate MessageCreateParams like the real API (raises SimError 400/404)."""
    if not isinstance(body, dict):
        raise SimError(400, "invalid_request_error", "body: expected an object")
    extra = set(body) - MESSAGE_PARAMS
    if extra:
        raise SimError(400, "invalid_request_error", f"{sorted(extra)[0]}: Extra inputs are not permitted")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise SimError(400, "invalid_request_error", "model: Field required")
    if model not in KNOWN_MODELS:
        raise SimError(404, "not_found_error", f"model: {model}")
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        raise SimError(400, "invalid_request_error", "max_tokens: must be a positive integer")
    if body.get("stream"):
        raise SimError(400, "invalid_request_error", "stream: not supported by this simulator")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise SimError(400, "invalid_request_error", "messages: at least one message is required")
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or msg.get("role") not in ("user", "assistant"):
            raise SimError(400, "invalid_request_error", f"messages.{i}.role: must be user or assistant")
        content = msg.get("content")
        if isinstance(content, list):
            if not content:
                raise SimError(400, "invalid_request_error", f"messages.{i}.content: must not be empty")
            for j, block in enumerate(content):
                _check_text_block(block, f"messages.{i}.content.{j}")
        elif not isinstance(content, str) or not content:
            raise SimError(400, "invalid_request_error", f"messages.{i}.content: must be non-empty")
    if messages[0].get("role") != "user":
        raise SimError(400, "invalid_request_error", "messages: first message must use the user role")
    system = body.get("system")
    if system is not None and not isinstance(system, str):
        if not isinstance(system, list):
            raise SimError(400, "invalid_request_error", "system: expected a string or text blocks")
        for j, block in enumerate(system):
            _check_text_block(block, f"system.{j}")
    oc = body.get("output_config")
    if oc is not None:
        if not isinstance(oc, dict) or set(oc) - {"format", "effort"}:
            raise SimError(400, "invalid_request_error", "output_config: invalid")
        fmt = oc.get("format")
        if fmt is not None:
            if not isinstance(fmt, dict) or fmt.get("type") != "json_schema" or "schema" not in fmt:
                raise SimError(400, "invalid_request_error", "output_config.format: expected json_schema")
            schema = fmt["schema"]
            if not isinstance(schema, dict) or schema.get("type") != "object":
                raise SimError(400, "invalid_request_error", "output_config.format.schema: must be an object schema")
            _check_schema(schema)
    return body


# ---------------------------------------------------------------- answers
def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(b.get("text", "") for b in content if isinstance(b, dict))


def _facts_from(body: dict[str, Any]) -> dict[str, Any] | None:
    users = [m for m in body["messages"] if m.get("role") == "user"]
    text = _text_of(users[-1]["content"]) if users else ""
    start, end = text.find("<data>"), text.rfind("</data>")
    if start < 0 or end <= start:
        return None
    try:
        facts = json.loads(text[start + len("<data>"):end])
    except ValueError:
        return None
    return facts if isinstance(facts, dict) else None


def _schema_of(body: dict[str, Any]) -> dict[str, Any] | None:
    return ((body.get("output_config") or {}).get("format") or {}).get("schema")


def _metric_enum(schema: dict[str, Any] | None, prop: str) -> list[str] | None:
    try:
        return schema["properties"][prop]["items"]["properties"]["metric"].get("enum")  # type: ignore[index]
    except (KeyError, TypeError):
        return None


def _fmt(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


def grounded_answer(facts: dict[str, Any] | None, schema: dict[str, Any] | None) -> dict[str, Any]:
    """A schema-valid insight citing only numbers from the facts (a deterministic 'model')."""
    numbers: dict[str, float] = dict((facts or {}).get("numbers") or {})
    labels: dict[str, str] = dict((facts or {}).get("labels") or {})
    action_enum = _metric_enum(schema, "actions")
    cited_enum = _metric_enum(schema, "cited_numbers")
    cited: list[dict[str, Any]] = []

    def cite(name: str) -> None:
        if cited_enum is None or name in cited_enum:
            cited.append({"metric": name, "value": numbers[name]})

    parts: list[str] = []
    if "seat_utilisation" in numbers:
        headline = f"Copilot seat utilisation is {round(numbers['seat_utilisation'] * 100, 1):g}% this period"
        cite("seat_utilisation")
    elif "acceptance_rate" in numbers:
        headline = f"Copilot suggestions are accepted {round(numbers['acceptance_rate'] * 100, 1):g}% of the time"
        cite("acceptance_rate")
    else:
        headline = "Copilot usage data is limited for this period"
    if "active_users_avg" in numbers:
        parts.append(f"Daily active users averaged {_fmt(numbers['active_users_avg'])}.")
        cite("active_users_avg")
    if "active_users_trend_pct" in numbers:
        trend = numbers["active_users_trend_pct"]
        parts.append(f"That is {'up' if trend >= 0 else 'down'} {_fmt(abs(trend))}% on the previous period.")
        cite("active_users_trend_pct")
    if "acceptance_rate" in numbers:
        parts.append(f"The acceptance rate was {round(numbers['acceptance_rate'] * 100, 1):g}%.")
        if not any(c["metric"] == "acceptance_rate" for c in cited):
            cite("acceptance_rate")
    if numbers.get("lines_accepted"):
        parts.append(f"Accepted suggestions added {_fmt(numbers['lines_accepted'])} lines.")
        cite("lines_accepted")
    if "top_language_1" in labels:
        parts.append(f'Most accepted suggestions were in "{labels["top_language_1"]}".')
    if "days_with_data" in numbers and "window_days" in numbers and numbers["days_with_data"] < numbers["window_days"]:
        parts.append(f"Coverage is {_fmt(numbers['days_with_data'])} of {_fmt(numbers['window_days'])} days.")
        cite("days_with_data")
        cite("window_days")
    if not parts:
        parts.append("There is not enough data to describe usage in this period.")
    candidates = ["seats_never_used", "seat_utilisation", "acceptance_rate", "active_users_avg", "days_with_data",
                  "window_days"]
    metric = next((m for m in candidates if m in numbers and (action_enum is None or m in action_enum)), None)
    if metric is None:
        metric = (action_enum or ["window_days"])[0]
    return {
        "headline": headline,
        "detail": " ".join(parts),
        "recommendation": "Discuss the findings with team leads and agree on one enablement step.",
        "actions": [{"label": "Review " + metric.replace("_", " "), "metric": metric}],
        "cited_numbers": cited,
    }


def _schema_valid(value: Any, schema: dict[str, Any] | None) -> bool:
    if not schema:
        return True
    kind = schema.get("type")
    if "enum" in schema and value not in schema["enum"]:
        return False
    if kind == "object":
        if not isinstance(value, dict):
            return False
        props = schema.get("properties") or {}
        if any(k not in value for k in schema.get("required") or []):
            return False
        if schema.get("additionalProperties") is False and set(value) - set(props):
            return False
        return all(_schema_valid(v, props.get(k)) for k, v in value.items())
    if kind == "array":
        return isinstance(value, list) and all(_schema_valid(v, schema.get("items")) for v in value)
    if kind == "string":
        return isinstance(value, str)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    return True


def _usage(state: SimState, body: dict[str, Any], key_id: str, output_text: str, tier: str) -> dict[str, Any]:
    system = body.get("system")
    blocks = [{"type": "text", "text": system}] if isinstance(system, str) else list(system or [])
    breakpoint_at = max((i for i, b in enumerate(blocks) if b.get("cache_control")), default=-1)
    prefix = blocks[: breakpoint_at + 1]
    prefix_tokens = sum(_tokens(b["text"]) for b in prefix)
    total_tokens = sum(_tokens(b["text"]) for b in blocks) + sum(
        _tokens(_text_of(m["content"])) for m in body["messages"]
    )
    created = read = 0
    if prefix and prefix_tokens >= MIN_CACHEABLE_TOKENS:
        cache_key = hashlib.sha256(
            json.dumps([key_id, body["model"], [b["text"] for b in prefix]]).encode()
        ).hexdigest()
        if cache_key in state.cache:
            read = prefix_tokens
        else:
            created = prefix_tokens
            state.cache.add(cache_key)
    return {
        "input_tokens": total_tokens - created - read,
        "output_tokens": _tokens(output_text),
        "cache_creation_input_tokens": created,
        "cache_read_input_tokens": read,
        "service_tier": tier,
    }


def answer(state: SimState, body: dict[str, Any], key_id: str, fault: Fault | None, tier: str) -> dict[str, Any]:
    """The Message for a validated request, shaped by a content fault if any."""
    schema = _schema_of(body)
    stop_reason = "end_turn"
    content_json = grounded_answer(_facts_from(body), schema)
    mode = fault.mode if fault else None
    if mode == "ungrounded":
        content_json["detail"] += f" Accepted suggestions saved {INVENTED_NUMBER:,} hours this period."
        content_json["cited_numbers"].append({"metric": "lines_accepted", "value": INVENTED_NUMBER})
    if mode == "wrong_schema":
        text = json.dumps({"title": "Copilot usage", "summary": ["usage", "is", "steady"], "score": "high"})
    elif mode == "invalid_json":
        text = 'Here is the insight you asked for: {headline: "Copilot usage is steady", detail: ...'
    elif mode == "refusal":
        text, stop_reason = "", "refusal"
    else:
        if not _schema_valid(content_json, schema):
            raise SimError(500, "api_error", "simulator could not satisfy the requested schema")
        text = json.dumps(content_json)
    usage = _usage(state, body, key_id, text or " ", tier)
    return {
        "id": f"msg_sim_{uuid.uuid4().hex[:20]}",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": [{"type": "text", "text": text}] if text else [],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage,
    }


# ---------------------------------------------------------------- routes
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


def _get_batch(request: Request) -> Batch:
    batch = _state(request).batches.get(request.path_params["batch_id"])
    if batch is None:
        raise SimError(404, "not_found_error", "batch not found")
    return batch


async def retrieve_batch(request: Request) -> Response:
    state = _state(request)
    key_id = None
    try:
        key_id = _check_auth(request)
        batch = _get_batch(request)
    except SimError as err:
        _log(state, request, key_id, err.status)
        return err.response()
    _log(state, request, key_id, 200)
    return JSONResponse(_batch_json(request, batch))


async def batch_results(request: Request) -> Response:
    state = _state(request)
    key_id = None
    try:
        key_id = _check_auth(request)
        batch = _get_batch(request)
        if time.monotonic() < batch.ready_at:
            raise SimError(400, "invalid_request_error", "batch is still processing")
    except SimError as err:
        _log(state, request, key_id, err.status)
        return err.response()
    _log(state, request, key_id, 200)
    text = "".join(json.dumps(r) + "\n" for r in batch.results)
    return Response(text, media_type="application/x-jsonl")


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


def create_app(*, batch_processing_seconds: float = 0.3) -> Starlette:
    routes = [
        Route("/v1/messages", create_message, methods=["POST"]),
        Route("/v1/messages/batches", create_batch, methods=["POST"]),
        Route("/v1/messages/batches/{batch_id}", retrieve_batch, methods=["GET"]),
        Route("/v1/messages/batches/{batch_id}/results", batch_results, methods=["GET"]),
        Route("/_sim/faults", sim_faults, methods=["POST", "DELETE"]),
        Route("/_sim/requests", sim_requests, methods=["GET"]),
        Route("/_sim/reset", sim_reset, methods=["POST"]),
        Route("/_sim/config", sim_config, methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.sim = SimState(batch_processing_seconds=batch_processing_seconds)
    return app


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m simulators.anthropic", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8788)
    parser.add_argument("--batch-processing-seconds", type=float, default=2.0)
    args = parser.parse_args(argv)
    uvicorn.run(create_app(batch_processing_seconds=args.batch_processing_seconds), host=args.host,
                port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
