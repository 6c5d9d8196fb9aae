"""Insight generation: Claude (structured output, cached prefix) with a rule-based fallback.

Interactive path: ``generate_insight`` (synchronous Messages API). Nightly path: ``submit_batch`` +
``collect_batch`` (Message Batches API, 50 % price), results matched by ``custom_id``.

Fallback reasons (``InsightResult.fallback_reason``; source is then ``"rules"``):
``no_api_key`` · ``api_error:<SDK exception class>`` (after the SDK's retries) · ``invalid_output``
(refusal, max_tokens, not JSON, schema-invalid, unknown metric reference) · ``ungrounded`` (a number
that is not a fact) · batch only: ``batch_errored:<error type>``, ``batch_expired``, ``batch_canceled``,
``batch_missing_result``, ``batch_timeout``.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from resources.llm import AnthropicResource

from .facts import Facts
from .grounding import check_grounding
from .prompt import PROMPT_VERSION, build_messages
from .rules import rule_insight, status_rule_insight
from .schema import InsightOutput, MetricReferenceError, insight_json_schema, parse_insight

CUSTOM_ID_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
FALLBACK_REASON_MAX = 64  # insights.fallback_reason is String(64)


class LLMNotConfigured(RuntimeError):
    """No ANTHROPIC_API_KEY: the batch path cannot run (the interactive path falls back to rules)."""


@dataclass
class InsightResult:
    source: str  # "claude" | "rules"
    output: InsightOutput
    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cost_usd: float = 0.0
    fallback_reason: str | None = None
    ungrounded: list[str] = field(default_factory=list)
    batch: bool = False

    def metadata(self) -> dict[str, Any]:
        """Plain values for Dagster metadata (no secrets, no free text from the data)."""
        return {
            "insight_source": self.source,
            "llm_model": self.model or "",
            "fallback_reason": self.fallback_reason or "",
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cost_usd": self.cost_usd,
            "batch": self.batch,
            "prompt_version": PROMPT_VERSION,
        }

    def to_row(self, facts: Facts, *, created_at: datetime | None = None, run_id: str | None = None) -> dict:
        """A row for ``resources.tables.insights`` (one per team-day)."""
        return {
            "team_id": facts.team_id,
            "day": facts.day,
            "source": self.source,
            "model": self.model,
            "headline": self.output.headline,
            "detail": self.output.detail,
            "recommendation": self.output.recommendation,
            "actions": json.dumps([a.model_dump() for a in self.output.actions]),
            "cited_numbers": json.dumps([c.model_dump() for c in self.output.cited_numbers]),
            "facts": facts.to_json(),
            "fallback_reason": self.fallback_reason,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cost_usd": self.cost_usd,
            "created_at": created_at or datetime.now(UTC),
            "run_id": run_id,
        }


def custom_id_for(team_id: int, day: date) -> str:
    """Batch ``custom_id`` of a team-day, e.g. ``t42_2026-11-22`` (never the raw partition key)."""
    cid = f"t{int(team_id)}_{day.isoformat()}"
    if not CUSTOM_ID_RE.match(cid):
        raise ValueError(f"invalid custom_id {cid!r}")
    return cid


def _reason(text: str) -> str:
    return text[:FALLBACK_REASON_MAX]


def _rules(facts: Facts, reason: str, base: InsightResult | None = None) -> InsightResult:
    output = rule_insight(facts)
    result = base or InsightResult(source="rules", output=output)
    result.source = "rules"
    result.output = output
    result.fallback_reason = _reason(reason)
    return result


def status_insight(facts: Facts, status: str, reason: str | None) -> InsightResult:
    """The insight of a team whose Copilot data GitHub refused (onboarding moves on without it): rules
    only, no Claude call, stating the team's status and where the fix is."""
    return InsightResult(source="rules", output=status_rule_insight(facts, status, reason),
                         fallback_reason=_reason(f"not_connected:{status}"))


def _request_params(facts: Facts, llm: AnthropicResource, cache_ttl: str | None = None) -> dict[str, Any]:
    system, messages = build_messages(facts, cache_ttl=(cache_ttl or llm.cache_ttl))  # type: ignore[arg-type]
    return {
        "model": llm.model_id(),
        "max_tokens": llm.max_tokens,
        "system": system,
        "messages": messages,
        "output_config": {"format": {"type": "json_schema", "schema": insight_json_schema(facts)}},
    }


def _from_message(message: Any, facts: Facts, llm: AnthropicResource, *, batch: bool) -> InsightResult:
    """Validate one Messages API response and turn it into a result (Claude or rules fallback)."""
    usage = message.usage
    tokens = {
        "input_tokens": int(usage.input_tokens or 0),
        "output_tokens": int(usage.output_tokens or 0),
        "cache_read_input_tokens": int(usage.cache_read_input_tokens or 0),
        "cache_creation_input_tokens": int(usage.cache_creation_input_tokens or 0),
    }
    base = InsightResult(
        source="claude",
        output=None,  # type: ignore[arg-type]  # set below
        model=getattr(message, "model", None) or llm.model_id(),
        cost_usd=llm.cost_usd(**tokens, batch=batch),
        batch=batch,
        **tokens,
    )
    if message.stop_reason not in ("end_turn", "stop_sequence"):
        return _rules(facts, "invalid_output", base)
    text = "".join(getattr(block, "text", "") for block in message.content if block.type == "text")
    try:
        insight = parse_insight(text, facts)
    except (ValidationError, MetricReferenceError, ValueError):
        return _rules(facts, "invalid_output", base)
    grounding = check_grounding(insight, facts)
    if not grounding.passed:
        base.ungrounded = grounding.ungrounded
        return _rules(facts, "ungrounded", base)
    base.output = insight
    return base


def generate_insight(facts: Facts, llm: AnthropicResource, *, client: Any | None = None) -> InsightResult:
    """One team-day through the synchronous API; rules on any failure (see module docstring).

    Pass ``client`` (``llm.client()``) to reuse one connection pool across many team-days."""
    if not llm.configured():
        return _rules(facts, "no_api_key")
    import anthropic  # lazily: every process that loads the definitions would pay ~40 MB for it

    try:
        client = client or llm.client()
        message = client.messages.create(**_request_params(facts, llm), timeout=llm.timeout_seconds)
    except anthropic.APIError as exc:
        return _rules(facts, f"api_error:{type(exc).__name__}")
    return _from_message(message, facts, llm, batch=False)


# --------------------------------------------------------------------------- batch (nightly)
def submit_batch(items: list[tuple[str, Facts]], llm: AnthropicResource, *, client: Any | None = None) -> str:
    """Create one Message Batch with a request per team-day; returns the batch id.

    ``custom_id``s must match ``^[a-zA-Z0-9_-]{1,64}$`` and be unique (use ``custom_id_for``). The
    shared prefix uses the 1-hour cache TTL, as batches can take longer than 5 minutes."""
    if not llm.configured():
        raise LLMNotConfigured("ANTHROPIC_API_KEY is not set")
    if not items:
        raise ValueError("a batch needs at least one request")
    seen: set[str] = set()
    requests = []
    for cid, facts in items:
        if not CUSTOM_ID_RE.match(cid):
            raise ValueError(f"invalid custom_id {cid!r}")
        if cid in seen:
            raise ValueError(f"duplicate custom_id {cid!r}")
        seen.add(cid)
        requests.append({"custom_id": cid, "params": _request_params(facts, llm, cache_ttl="1h")})
    client = client or llm.client()
    batch = client.messages.batches.create(requests=requests, timeout=llm.timeout_seconds)
    return str(batch.id)


def collect_batch(
    batch_id: str,
    facts_by_custom_id: dict[str, Facts],
    llm: AnthropicResource,
    *,
    client: Any | None = None,
    poll_seconds: float | None = None,
    timeout_seconds: float | None = None,
) -> dict[str, InsightResult]:
    """Poll until the batch has ended (or the timeout), then one result per requested ``custom_id``.

    Results are matched by ``custom_id`` (they arrive in no set order). Errored, expired, canceled or
    missing items, and every item on timeout or API failure, fall back to rules."""
    import anthropic

    client = client or llm.client()
    poll = llm.batch_poll_seconds if poll_seconds is None else poll_seconds
    deadline = time.monotonic() + (llm.batch_timeout_seconds if timeout_seconds is None else timeout_seconds)

    def all_rules(reason: str) -> dict[str, InsightResult]:
        return {cid: _rules(f, reason) for cid, f in facts_by_custom_id.items()}

    try:
        while True:
            batch = client.messages.batches.retrieve(batch_id)
            if batch.processing_status == "ended":
                break
            if time.monotonic() >= deadline:
                return all_rules("batch_timeout")
            time.sleep(poll)
        results: dict[str, InsightResult] = {}
        for item in client.messages.batches.results(batch_id):
            facts = facts_by_custom_id.get(item.custom_id)
            if facts is None or item.custom_id in results:
                continue
            kind = item.result.type
            if kind == "succeeded":
                results[item.custom_id] = _from_message(item.result.message, facts, llm, batch=True)
            elif kind == "errored":
                err = getattr(getattr(item.result.error, "error", None), "type", "unknown")
                results[item.custom_id] = _rules(facts, f"batch_errored:{err}")
            else:
                results[item.custom_id] = _rules(facts, f"batch_{kind}")
    except anthropic.APIError as exc:
        return all_rules(f"api_error:{type(exc).__name__}")
    for cid, facts in facts_by_custom_id.items():
        results.setdefault(cid, _rules(facts, "batch_missing_result"))
    return results
