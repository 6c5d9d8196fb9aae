"""Grounding, the rule-based fallback, the output schema and the prompt."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest
from insights_support import DAY, INJECTION, sample_facts
from pydantic import ValidationError

from insights_assets.facts import compute_facts
from insights_assets.grounding import check_grounding, extract_numbers
from insights_assets.prompt import GLOSSARY, SYSTEM_PROMPT, build_messages
from insights_assets.rules import rule_insight
from insights_assets.schema import (
    INSIGHT_JSON_SCHEMA,
    InsightOutput,
    MetricReferenceError,
    parse_insight,
)


def insight(detail: str, cited=(), headline: str = "Copilot usage is steady this period") -> InsightOutput:
    return InsightOutput(
        headline=headline,
        detail=detail,
        recommendation="Keep monitoring the team.",
        actions=[{"label": "Look at active users", "metric": "active_users_avg"}],
        cited_numbers=[{"metric": m, "value": v} for m, v in cited],
    )


# ---------------------------------------------------------------- grounding
def test_extract_numbers_handles_separators_percent_and_money():
    nums = [(n.value, n.decimals, n.dollar) for n in extract_numbers("1,234.5 lines, 42% and $95 or 7 USD")]
    assert nums == [(1234.5, 1, False), (42.0, 0, False), (95.0, 0, True), (7.0, 0, True)]
    assert extract_numbers("gpt-4o top_language_1 v1.2") == [(n) for n in extract_numbers("v1.2")] == []


def test_grounded_text_passes_with_rounding_and_percentages(facts):
    ok = insight(
        "Acceptance was 30% (0.3) with 12 daily users on average, up 20% on 10.0; 150 lines in 3 of 4 days.",
        cited=[("acceptance_rate", 0.3), ("acceptance_rate", 30), ("active_users_avg", 12.0)],
    )
    result = check_grounding(ok, facts)
    assert result.passed, result.ungrounded


def test_invented_number_is_rejected(facts):
    bad = insight("Copilot saved 987,654 hours and 150 lines.")
    result = check_grounding(bad, facts)
    assert not result.passed
    assert any("987,654" in u for u in result.ungrounded)


def test_wrong_cited_value_is_rejected(facts):
    result = check_grounding(insight("150 lines were accepted.", cited=[("lines_accepted", 151)]), facts)
    assert not result.passed and "lines_accepted" in result.ungrounded[0]


def test_small_allowlist_only(facts):
    assert check_grounding(insight("Idle for 30 days; teams under 5 users; the 4-day window."), facts).passed
    assert not check_grounding(insight("The top 7 editors."), facts).passed


def test_money_needs_a_configured_seat_price(facts):
    text = "Seats that are not active cost $95 per month."
    assert not check_grounding(insight(text), facts).passed
    priced = sample_facts(seat_price_usd=19.0)
    assert check_grounding(insight(text), priced).passed
    assert not check_grounding(insight("Copilot returned $586,500 in value."), priced).passed


def test_numbers_inside_quoted_labels_and_period_dates_are_not_counted(facts):
    text = 'Most suggestions were in "gpt-4.1" between 2026-11-19 and 2026-11-22.'
    assert check_grounding(insight(text), facts).passed
    assert not check_grounding(insight("Since 2025-01-01 usage grew."), facts).passed


# ---------------------------------------------------------------- rules
@pytest.mark.parametrize("price", [None, 19.0])
def test_rule_insight_is_grounded_and_deterministic(price):
    facts = sample_facts(seat_price_usd=price)
    first, second = rule_insight(facts), rule_insight(facts)
    assert first == second
    assert check_grounding(first, facts).passed
    assert "seat" in first.headline.lower()
    assert ("$" in first.detail) is (price is not None)


def _usage(days: int, dau_cur: int, dau_prev: int, gen: int, acc: int) -> pd.DataFrame:
    rows = []
    for i in range(2 * days):
        d = date.fromordinal(DAY.toordinal() - i)
        rows.append({"day": d, "daily_active_users": dau_cur if i < days else dau_prev,
                     "code_generation_activity_count": gen, "code_acceptance_activity_count": acc,
                     "loc_added_sum": 7})
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("usage", "seats", "headline_word"),
    [
        (_usage(7, 13, 10, 100, 30), None, "rose"),
        (_usage(7, 8, 10, 100, 30), None, "fell"),
        (_usage(7, 10, 10, 100, 10), None, "accepted"),
        (_usage(7, 10, 10, 100, 30), {"total_seats": 10, "active_seats": 10, "never_used": 0, "dormant_30d": 0},
         "steady"),
        (pd.DataFrame(), None, "no copilot usage data"),
    ],
)
def test_rule_branches_are_grounded(usage, seats, headline_word):
    facts = compute_facts(usage, None, None, None, None, seats, day=DAY, window_days=7)
    out = rule_insight(facts)
    assert headline_word in out.headline.lower()
    result = check_grounding(out, facts)
    assert result.passed, result.ungrounded
    assert all(a.metric in facts.numbers for a in out.actions)


# ---------------------------------------------------------------- schema
def _keywords(schema) -> set[str]:
    found = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            found.add(key)
            if key == "properties":
                for sub in value.values():
                    found |= _keywords(sub)
            elif key == "items":
                found |= _keywords(value)
    return found


def test_json_schema_uses_only_the_supported_subset():
    assert _keywords(INSIGHT_JSON_SCHEMA) <= {"type", "properties", "required", "items", "enum",
                                              "additionalProperties"}
    assert INSIGHT_JSON_SCHEMA["additionalProperties"] is False


def test_pydantic_enforces_lengths_and_metric_references(facts):
    with pytest.raises(ValidationError):
        InsightOutput(headline="x" * 500, detail="long enough detail", recommendation="do it",
                      actions=[{"label": "abc", "metric": "window_days"}], cited_numbers=[])
    with pytest.raises(ValidationError):
        insight("fine detail text").model_copy(update={}).model_validate({"headline": "only"})
    payload = insight("fine detail text").model_dump()
    payload["actions"] = [{"label": "Look", "metric": "seat_price_usd"}]  # not a fact without a price
    with pytest.raises(MetricReferenceError):
        parse_insight(json.dumps(payload), facts)


# ---------------------------------------------------------------- prompt
def test_cached_prefix_is_long_enough_and_marked():
    system, _ = build_messages(sample_facts())
    assert len(system) == 1 and system[0]["cache_control"]["type"] == "ephemeral"
    # > 1,024 tokens at a conservative 4.5 characters per token
    assert len(SYSTEM_PROMPT + GLOSSARY) / 4.5 > 1024


def test_injection_in_labels_is_quoted_data_and_changes_nothing_else():
    clean = sample_facts()
    hostile = sample_facts(editor_name=INJECTION, github_slug=INJECTION)
    sys_clean, _msgs_clean = build_messages(clean)
    sys_hostile, msgs_hostile = build_messages(hostile)
    assert sys_clean == sys_hostile  # the system prompt never depends on the data
    text = msgs_hostile[0]["content"][0]["text"]
    start, end = text.index("<data>"), text.index("</data>")
    data = json.loads(text[start + len("<data>"):end])
    quoted = INJECTION[:39] + "…"  # length-limited to 40 characters
    assert data["labels"]["top_editor_2"] == quoted
    assert data["labels"]["top_github_team_1"] == quoted
    assert text.count("Ignore previous") == 2 and text.index("Ignore previous") > start
    assert "instructions" in text[:start]  # the data-is-not-instructions notice precedes the data
    assert '"HACKED"}' not in text  # cut by the length limit, and only ever inside a JSON string
