"""Request validation like the real API: auth and ``anthropic-version``, known model, MessageCreateParams,
text blocks with ``cache_control``, and the supported JSON-schema subset of ``output_config.format``."""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.requests import Request

from simulators.anthropic.state import SimError

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
MESSAGE_PARAMS = {
    "model", "max_tokens", "messages", "system", "metadata", "stop_sequences", "stream", "temperature",
    "top_k", "top_p", "tools", "tool_choice", "thinking", "output_config", "cache_control", "service_tier",
    "container", "diagnostics", "inference_geo", "speed",
}
SUPPORTED_SCHEMA_KEYS = {
    "type", "properties", "required", "items", "enum", "additionalProperties", "description", "title",
    "const", "anyOf", "$defs", "$ref", "default", "format",
}


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
