"""Insight facts of the 2026 fields (pull requests, agents, code review, AI credits, seat money): exact
values, null is not 0, grounding of the new units, the per-team-day output schema, the rules and the
simulated Claude citing them."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from insights_support import DAY, sample_frames, sim_requests

from insights_assets.facts import NUMBER_FACT_NAMES, compute_facts
from insights_assets.generate import generate_insight
from insights_assets.grounding import check_grounding
from insights_assets.rules import rule_insight
from insights_assets.schema import INSIGHT_JSON_SCHEMA, Action, InsightOutput, insight_json_schema

PR_ROWS = [  # window: 2026-11-19 .. 2026-11-22 (4 days)
    {"day": date(2026, 11, 18), "total_created": 500, "total_merged": 500, "median_minutes_to_merge": 1.0},
    {"day": date(2026, 11, 19), "total_created": 10, "total_merged": 6, "median_minutes_to_merge": 120.0,
     "total_created_by_copilot": 2, "total_copilot_suggestions": 8, "total_copilot_applied_suggestions": 3},
    {"day": date(2026, 11, 20), "total_created": 7, "total_merged": 0, "median_minutes_to_merge": None,
     "total_created_by_copilot": 1, "total_copilot_suggestions": 4, "total_copilot_applied_suggestions": 3},
    {"day": date(2026, 11, 22), "total_created": 5, "total_merged": 4, "median_minutes_to_merge": 45.5,
     "total_created_by_copilot": None, "total_copilot_suggestions": None, "total_copilot_applied_suggestions": None},
]


def users_2026() -> pd.DataFrame:
    rows = []
    for day, uid, agent, cloud, review, credits in (
        (date(2026, 11, 19), 1, True, None, None, None),  # before the flags existed: null, not False
        (date(2026, 11, 20), 1, False, True, True, 12.5),
        (date(2026, 11, 20), 2, False, False, None, 0.0),
        (date(2026, 11, 22), 2, False, True, False, 7.25),
        (date(2026, 11, 22), 3, False, False, False, None),
        (date(2026, 11, 22), 4, False, False, False, 1.0),
    ):
        rows.append({"day": day, "user_id": uid, "user_initiated_interaction_count": 1,
                     "code_generation_activity_count": 1, "used_agent": agent, "used_cli": uid == 4,
                     "used_copilot_cloud_agent": cloud, "used_copilot_code_review_active": review,
                     "ai_credits_used": credits})
    return pd.DataFrame(rows)


def facts_2026(seats: bool = True, budget: float | None = 100.0):
    f = sample_frames()
    plans = [{"plan_type": "business", "seats": 12, "never_used": 2, "dormant_30d": 1, "seat_price_usd_month": 19.0},
             {"plan_type": "enterprise", "seats": 8, "never_used": 1, "dormant_30d": 1, "seat_price_usd_month": 39.0}]
    return compute_facts(
        f["usage"], f["languages"], f["editors"], f["models"], f["github_teams"], f["seats"] if seats else None,
        day=DAY, window_days=4, team_id=42, users=users_2026(), pull_requests=pd.DataFrame(PR_ROWS),
        seat_plans=plans if seats else None, credits_month_to_date=61.0, credit_budget=budget,
    )


def test_exact_2026_facts():
    n = facts_2026().numbers
    assert {k: n[k] for k in ("prs_created", "prs_merged", "prs_created_by_copilot", "pr_median_minutes_to_merge",
                              "pr_copilot_suggestions", "pr_copilot_suggestions_applied",
                              "pr_copilot_suggestion_applied_rate")} == {
        "prs_created": 22, "prs_merged": 10, "prs_created_by_copilot": 3,
        # the median of the daily medians 120.0 and 45.5 (a day without merges has none)
        "pr_median_minutes_to_merge": 82.8,
        "pr_copilot_suggestions": 12, "pr_copilot_suggestions_applied": 6, "pr_copilot_suggestion_applied_rate": 0.5,
    }
    assert "prs_reviewed" not in n  # GitHub never said: no fact, never 0
    assert (n["agent_users_distinct"], n["agent_adoption_rate"]) == (2, 0.5)  # users 1 and 2 of 4
    assert (n["cloud_agent_users_distinct"], n["code_review_users_distinct"], n["cli_users_distinct"]) == (2, 1, 1)
    assert n["ai_credits_used"] == 20.75
    assert (n["ai_credits_month_to_date"], n["ai_credit_budget"], n["ai_credit_budget_used"]) == (61.0, 100.0, 0.61)
    assert n["seat_cost_usd_month"] == 12 * 19 + 8 * 39
    assert n["unused_seat_cost_usd_month"] == (2 + 1) * 19 + (1 + 1) * 39  # (never used + dormant) × price
    assert "seat_price_usd" not in n  # two plans, two prices
    assert set(n) <= set(NUMBER_FACT_NAMES)


def test_nothing_reported_gives_no_2026_facts():
    f = sample_frames()
    silent = pd.DataFrame([{"day": DAY, "total_created": None, "median_minutes_to_merge": None}])
    users = users_2026().assign(used_copilot_cloud_agent=None, used_copilot_code_review_active=None,
                                ai_credits_used=None)
    n = compute_facts(f["usage"], None, None, None, None, None, day=DAY, window_days=4, users=users,
                      pull_requests=silent).numbers
    assert not {"prs_created", "pr_median_minutes_to_merge", "cloud_agent_users_distinct",
                "code_review_users_distinct", "ai_credits_used", "ai_credits_month_to_date"} & set(n)
    unpriced = [{"plan_type": "unknown", "seats": 3, "never_used": 1, "dormant_30d": 0, "seat_price_usd_month": None}]
    assert "seat_cost_usd_month" not in compute_facts(f["usage"], None, None, None, None, f["seats"], day=DAY,
                                                      seat_plans=unpriced).numbers


def _insight(text: str) -> InsightOutput:
    return InsightOutput(headline="Pull requests merged steadily", detail=text, recommendation="Keep going.",
                         actions=[Action(label="Look at pull requests", metric="prs_merged")])


@pytest.mark.parametrize(("text", "ok"), [
    ("The median time to merge was 82.8 minutes.", True),
    ("The median time to merge was 83 minutes.", True),  # rounded to fewer decimals
    ("The median time to merge was 22 minutes.", False),  # 22 is a fact (prs_created), but not in minutes
    ("The team used 20.75 AI credits.", True),
    ("The team used 61 credits this month.", True),
    ("The team used 10 AI credits.", False),  # 10 is prs_merged, not credits
    ("Unused seats cost $135 per month.", True),
    ("Unused seats cost $136 per month.", False),
    ("Agents reached 50% of active people and 61% of the budget is used.", True),
])
def test_grounding_checks_numbers_by_unit(text, ok):
    assert check_grounding(_insight(text), facts_2026()).passed is ok


def test_the_output_schema_offers_only_this_team_days_facts():
    without_seats = facts_2026(seats=False, budget=None)
    schema = insight_json_schema(without_seats)
    cited = schema["properties"]["cited_numbers"]["items"]["properties"]["metric"]["enum"]
    actions = schema["properties"]["actions"]["items"]["properties"]["metric"]["enum"]
    assert set(cited) == set(without_seats.numbers)
    assert set(actions) == set(without_seats.numbers) | set(without_seats.labels)
    assert not {"seats_total", "seat_utilisation", "unused_seat_cost_usd_month", "ai_credit_budget"} & set(cited)
    assert "seats_total" in insight_json_schema(facts_2026())["properties"]["cited_numbers"]["items"][
        "properties"]["metric"]["enum"]
    assert {k: v for k, v in schema.items() if k != "properties"} == {
        k: v for k, v in INSIGHT_JSON_SCHEMA.items() if k != "properties"}


def test_rules_mention_pull_requests_and_agents_with_grounded_numbers():
    facts = facts_2026()
    out = rule_insight(facts)
    assert "10 of 22 pull requests were merged, with a median of 82.8 minutes to merge" in out.detail
    assert "Users of a Copilot agent: 2 (50.0% of those with Copilot activity)" in out.detail
    assert "61 AI credits of a budget of 100" in out.detail
    assert "$135" in out.detail
    assert check_grounding(out, facts).passed
    assert {"prs_merged", "pr_median_minutes_to_merge", "agent_users_distinct"} <= {c.metric for c in
                                                                                   out.cited_numbers}


def test_the_simulated_claude_cites_pull_request_and_agent_facts(llm, sim):
    facts = facts_2026(seats=False)
    result = generate_insight(facts, llm)
    assert result.source == "claude", result.fallback_reason
    assert "pull requests were merged after a median of 82.8 minutes" in result.output.detail
    assert {"prs_merged", "agent_adoption_rate"} <= {c.metric for c in result.output.cited_numbers}
    assert check_grounding(result.output, facts).passed
    schema = sim_requests(sim)[0]["body"]["output_config"]["format"]["schema"]
    assert "seat_utilisation" not in schema["properties"]["cited_numbers"]["items"]["properties"]["metric"]["enum"]


def test_rules_detail_keeps_the_most_important_sentences_within_its_limit():
    from insights_assets.rules import _fit
    from insights_assets.schema import DETAIL_MAX

    sentences = [f"Sentence {i} " + "x" * 90 + "." for i in range(12)]  # ~1,250 characters in all
    detail = _fit(sentences)
    assert len(detail) <= DETAIL_MAX and detail.startswith("Sentence 0 ") and "Sentence 11" not in detail
    f = sample_frames()
    plans = [{"plan_type": "business", "seats": 20, "never_used": 3, "dormant_30d": 2, "seat_price_usd_month": 19.0}]
    facts = compute_facts(f["usage"], f["languages"], f["editors"], f["models"], f["github_teams"], f["seats"],
                          day=DAY, window_days=5, users=users_2026(), pull_requests=pd.DataFrame(PR_ROWS),
                          seat_plans=plans, credits_month_to_date=1500.0, credit_budget=1000.0)
    out = rule_insight(facts)  # every kind of sentence at once still fits and stays grounded
    assert len(out.detail) <= DETAIL_MAX and "pull requests" in out.detail and "over budget" in out.detail
    assert check_grounding(out, facts).passed
