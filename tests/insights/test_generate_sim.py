"""Insights through the real anthropic SDK against simulators/anthropic/ (127.0.0.1, real HTTP)."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

import anthropic
import httpx
import pytest
from insights_support import API_KEY, DAY, INJECTION, sample_facts, set_fault, sim_requests

from insights_assets.facts import Facts
from insights_assets.generate import (
    LLMNotConfigured,
    collect_batch,
    custom_id_for,
    generate_insight,
    submit_batch,
)
from insights_assets.grounding import check_grounding
from insights_assets.rules import rule_insight
from insights_assets.schema import insight_json_schema
from resources.llm import AnthropicResource


def test_claude_path_with_usage_cost_and_prompt_cache(llm, facts, sim):
    first = generate_insight(facts, llm)
    assert first.source == "claude", first.fallback_reason
    assert first.fallback_reason is None
    assert first.model == llm.model_id()
    assert first.input_tokens > 0 and first.output_tokens > 0
    assert first.cache_creation_input_tokens > 1024 and first.cache_read_input_tokens == 0
    assert first.cost_usd > 0
    assert check_grounding(first.output, facts).passed

    second = generate_insight(sample_facts(seat_price_usd=19.0), llm)
    assert second.source == "claude"
    assert second.cache_read_input_tokens > 1024 and second.cache_creation_input_tokens == 0
    assert second.cost_usd < first.cost_usd  # cache reads are cheaper than cache writes

    row = second.to_row(facts, run_id="r1")
    assert row["source"] == "claude" and row["cache_read_input_tokens"] == second.cache_read_input_tokens
    assert json.loads(row["actions"]) and json.loads(row["facts"])["team_id"] == 42
    assert second.metadata()["insight_source"] == "claude"

    log = sim_requests(sim)
    assert [r["status"] for r in log] == [200, 200]
    raw = json.dumps(log)
    assert API_KEY not in raw
    assert log[0]["key_sha256"].endswith(hashlib.sha256(API_KEY.encode()).hexdigest()[:12])
    body = log[0]["body"]
    assert body["output_config"]["format"]["schema"] == insight_json_schema(facts)  # this team-day's facts only
    assert body["system"][0]["cache_control"]["type"] == "ephemeral"
    assert body["max_tokens"] == llm.max_tokens


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("overloaded", "api_error:OverloadedError"),
        ("429", "api_error:RateLimitError"),
        ("500", "api_error:InternalServerError"),
        ("invalid_json", "invalid_output"),
        ("refusal", "invalid_output"),
        ("wrong_schema", "invalid_output"),
        ("ungrounded", "ungrounded"),
    ],
)
def test_each_fault_falls_back_to_rules(llm, facts, sim, mode, reason):
    set_fault(sim, mode, times=10)
    result = generate_insight(facts, llm)
    assert result.source == "rules"
    assert result.fallback_reason == reason
    assert result.output == rule_insight(facts)
    assert check_grounding(result.output, facts).passed
    attempts = len(sim_requests(sim))
    if mode in ("overloaded", "429", "500"):
        assert attempts == 1 + llm.max_retries  # the SDK retried, then we fell back
        assert result.input_tokens == 0
    else:
        assert attempts == 1
        assert result.input_tokens > 0  # paid for, so recorded
    if mode == "ungrounded":
        assert any("987,654" in u for u in result.ungrounded)


def test_transient_fault_is_absorbed_by_sdk_retries(llm, facts, sim):
    set_fault(sim, "429", times=1)
    result = generate_insight(facts, llm)
    assert result.source == "claude"
    assert [r["status"] for r in sim_requests(sim)] == [429, 200]


def test_no_api_key_uses_rules(monkeypatch, facts):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    llm = AnthropicResource(base_url="http://127.0.0.1:9")
    assert not llm.configured()
    result = generate_insight(facts, llm)
    assert result.source == "rules" and result.fallback_reason == "no_api_key"
    assert result.input_tokens == 0 and result.cost_usd == 0
    with pytest.raises(LLMNotConfigured):
        submit_batch([("t1_2026-11-22", facts)], llm)


def test_model_id_from_env(monkeypatch):
    monkeypatch.setenv("COPILOT_FLOW_LLM_MODEL", "claude-haiku-4-5")
    assert AnthropicResource().model_id() == "claude-haiku-4-5"
    assert AnthropicResource(model="claude-opus-5-5").model_id() == "claude-opus-5-5"


def test_unknown_model_is_an_api_error(llm, facts):
    result = generate_insight(facts, llm.model_copy(update={"model": "claude-nonexistent"}))
    assert result.fallback_reason == "api_error:NotFoundError"


def test_prompt_injection_in_team_and_editor_names(llm, sim):
    hostile = sample_facts(editor_name=INJECTION, github_slug=INJECTION)
    result = generate_insight(hostile, llm)
    assert result.source == "claude"
    out = result.output.model_dump_json()
    assert "HACKED" not in out
    body = sim_requests(sim)[0]["body"]
    clean_system, _ = body["system"], None
    assert "Ignore previous" not in json.dumps(clean_system)
    assert body["output_config"]["format"]["schema"] == insight_json_schema(hostile)
    user_text = body["messages"][0]["content"][0]["text"]
    data = user_text[user_text.index("<data>"):user_text.index("</data>")]
    assert "Ignore previous" in data  # present, but only as a quoted JSON string inside <data>
    assert "Ignore previous" not in user_text.replace(data, "")


def test_simulator_validates_requests(sim):
    url = f"{sim.url}/v1/messages"
    good = {"model": "claude-sonnet-5-5", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    headers = {"anthropic-version": "2023-06-01", "x-api-key": "k"}
    assert httpx.post(url, json=good, headers=headers).status_code == 200
    assert httpx.post(url, json=good, headers={"anthropic-version": "2023-06-01"}).status_code == 401
    assert httpx.post(url, json=good, headers={"x-api-key": "k"}).status_code == 400
    bearer = {"anthropic-version": "2023-06-01", "authorization": "Bearer k"}
    assert httpx.post(url, json=good, headers=bearer).status_code == 200
    for bad in ({"max_tokens": 0}, {"max_tokens": "5"}, {"messages": []}, {"model": ""}, {"bogus": 1},
                {"output_config": {"format": {"type": "json_schema", "schema": {"type": "string"}}}},
                {"output_config": {"format": {"type": "json_schema", "schema": {
                    "type": "object", "properties": {"a": {"type": "string", "minLength": 3}},
                    "additionalProperties": False}}}}):
        response = httpx.post(url, json={**good, **bad}, headers=headers)
        assert response.status_code == 400, bad
        assert response.json()["type"] == "error"
    assert httpx.post(url, json={**good, "model": "gpt-4"}, headers=headers).status_code == 404


# ---------------------------------------------------------------- batches
def test_custom_id_for():
    assert custom_id_for(42, date(2026, 11, 22)) == "t42_2026-11-22"


def _team_facts(team_id: int, day: date) -> Facts:
    base = sample_facts()
    numbers = {**base.numbers, "seats_total": 20 + team_id}
    return Facts(team_id=team_id, day=day, window_days=base.window_days, numbers=numbers, labels=base.labels)


def test_batch_end_to_end_matches_custom_ids(llm, sim):
    items = [(custom_id_for(tid, DAY - timedelta(days=tid % 2)), _team_facts(tid, DAY - timedelta(days=tid % 2)))
             for tid in range(1, 7)]
    batch_id = submit_batch(items, llm)
    by_id = dict(items)
    results = collect_batch(batch_id, by_id, llm, poll_seconds=0.05, timeout_seconds=10)
    assert set(results) == set(by_id)
    for cid, result in results.items():
        assert result.source == "claude", (cid, result.fallback_reason)
        assert result.batch
        seats_cited = [c.value for c in result.output.cited_numbers if c.metric == "seats_total"]
        assert all(v == by_id[cid].numbers["seats_total"] for v in seats_cited)
        assert check_grounding(result.output, by_id[cid]).passed  # matched to its own facts
    assert sum(r.cache_read_input_tokens > 0 for r in results.values()) == len(items) - 1

    log = sim_requests(sim)
    results_call = [r for r in log if r["path"].endswith("/results")]
    assert len(results_call) == 1
    sent = [r["custom_id"] for r in log[0]["body"]["requests"]]
    assert sent == [cid for cid, _ in items]
    assert log[0]["body"]["requests"][0]["params"]["system"][0]["cache_control"]["ttl"] == "1h"
    # the simulator returned them shuffled; results are still matched by custom_id
    lines = httpx.get(f"{sim.url}/v1/messages/batches/{batch_id}/results",
                      headers={"x-api-key": "k", "anthropic-version": "2023-06-01"}).text.splitlines()
    assert [json.loads(line)["custom_id"] for line in lines] != sent


def test_batch_errored_expired_and_bad_items_fall_back(llm, sim):
    items = [(custom_id_for(tid, DAY), _team_facts(tid, DAY)) for tid in range(1, 5)]
    set_fault(sim, "500", times=1)
    set_fault(sim, "expired", times=1)
    set_fault(sim, "ungrounded", times=1)
    batch_id = submit_batch(items, llm)
    results = collect_batch(batch_id, dict(items), llm, poll_seconds=0.05, timeout_seconds=10)
    reasons = {cid: r.fallback_reason for cid, r in results.items()}
    assert reasons == {
        "t1_2026-11-22": "batch_errored:api_error",
        "t2_2026-11-22": "batch_expired",
        "t3_2026-11-22": "ungrounded",
        "t4_2026-11-22": None,
    }
    assert results["t4_2026-11-22"].source == "claude"
    assert all(r.source == "rules" for cid, r in results.items() if cid != "t4_2026-11-22")


def test_batch_rejects_bad_custom_ids_and_times_out(llm, sim, facts):
    with pytest.raises(ValueError):
        submit_batch([("team 42/2026-11-22", facts)], llm)
    with pytest.raises(ValueError):
        submit_batch([("t1_x", facts), ("t1_x", facts)], llm)
    httpx.post(f"{sim.url}/_sim/config", json={"batch_processing_seconds": 30}).raise_for_status()
    try:
        batch_id = submit_batch([("t1_2026-11-22", facts)], llm)
        results = collect_batch(batch_id, {"t1_2026-11-22": facts}, llm, poll_seconds=0.05, timeout_seconds=0.2)
    finally:
        httpx.post(f"{sim.url}/_sim/config", json={"batch_processing_seconds": 0.2}).raise_for_status()
    assert results["t1_2026-11-22"].fallback_reason == "batch_timeout"


def test_sdk_sees_real_error_classes(llm, sim):
    set_fault(sim, "overloaded", times=5)
    client = llm.client().with_options(max_retries=0)
    with pytest.raises(anthropic.APIStatusError) as info:
        client.messages.create(model=llm.model_id(), max_tokens=5, messages=[{"role": "user", "content": "x"}])
    assert info.value.status_code == 529
