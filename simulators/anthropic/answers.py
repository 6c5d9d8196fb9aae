"""The answers of the deterministic 'model': schema-valid JSON citing only numbers from the FACTS in the
user message, usage with prompt caching (tokens estimated as characters / 4), and the content faults."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from simulators.anthropic.state import Fault, SimError, SimState

INVENTED_NUMBER = 987654
MIN_CACHEABLE_TOKENS = 1024


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


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
    if "prs_merged" in numbers and "prs_created" in numbers:
        merged = f"{_fmt(numbers['prs_merged'])} of {_fmt(numbers['prs_created'])} pull requests were merged"
        if "pr_median_minutes_to_merge" in numbers:
            merged += f" after a median of {_fmt(numbers['pr_median_minutes_to_merge'])} minutes"
            cite("pr_median_minutes_to_merge")
        parts.append(merged + ".")
        cite("prs_merged")
        cite("prs_created")
    if "agent_adoption_rate" in numbers and numbers.get("agent_users_distinct"):
        parts.append(f"{_fmt(numbers['agent_users_distinct'])} people used a Copilot agent "
                     f"({round(numbers['agent_adoption_rate'] * 100, 1):g}% of active people).")
        cite("agent_users_distinct")
        cite("agent_adoption_rate")
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
