"""Pure parsing of the 2026 report fields (github-copilot-api.md §1.5 A–D), seats per plan and their cost:
exact rows, null is not 0, both cloud-agent names land in one column, nothing summed that must not be."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import UTC, date, datetime

import pytest

from copilot_assets import derive, parsing
from copilot_assets.metrics import days_in_month, seat_cost_usd, share_of_budget
from resources.cost import CostResource, SeatPrices
from resources.github_errors import MalformedReport
from resources.tables import SURFACE_USER_FIELDS

DAY = date(2026, 5, 7)

SURFACES_2026 = {
    "daily_active_cli_users": 4,
    "daily_active_copilot_cloud_agent_users": 3, "weekly_active_copilot_cloud_agent_users": 6,
    "monthly_active_copilot_cloud_agent_users": 9,
    "daily_active_copilot_code_review_users": 2, "weekly_active_copilot_code_review_users": 5,
    "monthly_active_copilot_code_review_users": 8,
    "daily_passive_copilot_code_review_users": 0, "weekly_passive_copilot_code_review_users": 1,
    "monthly_passive_copilot_code_review_users": 7,
    "daily_active_copilot_app_users": 1,
    "pull_requests": {
        "total_created": 12, "total_reviewed": 9, "total_merged": 7, "median_minutes_to_merge": 95.5,
        "total_suggestions": 20, "total_applied_suggestions": 11, "total_created_by_copilot": 3,
        "total_reviewed_by_copilot": 4, "total_merged_created_by_copilot": 2, "total_merged_reviewed_by_copilot": 1,
        "median_minutes_to_merge_copilot_authored": 40.0, "median_minutes_to_merge_copilot_reviewed": None,
        "total_copilot_suggestions": 8, "total_copilot_applied_suggestions": 5,
        "copilot_suggestions_by_comment_type": [
            {"comment_type": "security", "total_copilot_suggestions": 3, "total_copilot_applied_suggestions": 2},
            {"comment_type": "bug_risk", "total_copilot_suggestions": 4, "total_copilot_applied_suggestions": 3},
            {"comment_type": "bug_risk", "total_copilot_suggestions": 1},  # a repeated type: summed
        ],
    },
    "totals_by_cli": {"session_count": 5, "request_count": 30, "prompt_count": 12,
                      "token_usage": {"output_tokens_sum": 900, "prompt_tokens_sum": 4000,
                                      "avg_tokens_per_request": 163.33},
                      "last_known_cli_version": {"cli_version": "1.0.12", "sampled_at": "2026-05-07T12:00:00Z"}},
    "totals_by_copilot_app": {"session_count": 2, "request_count": 6, "prompt_count": 3,
                              "token_usage": {"output_tokens_sum": 100, "prompt_tokens_sum": 700,
                                              "avg_tokens_per_request": 133.33}},
    "totals_by_3rd_party_agent": [
        {"agent_id": "openai-codex", "agent_name": "Codex", "user_initiated_interaction_count": 7,
         "session_count": 2},
        {"agent_id": "anthropic-claude", "agent_name": "Claude", "user_initiated_interaction_count": 5},
    ],
}


def org_day(**extra) -> dict:
    return {"day": DAY.isoformat(), "daily_active_users": 10, "user_initiated_interaction_count": 40,
            "code_generation_activity_count": 100, "code_acceptance_activity_count": 30, **extra}


def test_every_2026_field_lands_in_its_column_with_exact_values():
    rows = parsing.parse_org_day(org_day(**copy.deepcopy(SURFACES_2026)))
    assert {k: rows.usage[k] for k in SURFACE_USER_FIELDS} == {k: SURFACES_2026[k] for k in SURFACE_USER_FIELDS}
    pr = SURFACES_2026["pull_requests"]
    assert rows.pull_requests == [{"day": DAY, **{k: v for k, v in pr.items()
                                                  if k != "copilot_suggestions_by_comment_type"}}]
    assert rows.pull_requests[0]["median_minutes_to_merge_copilot_reviewed"] is None  # GitHub's null stays null
    assert [(r["day"], r["comment_type"], r["total_copilot_suggestions"], r["total_copilot_applied_suggestions"])
            for r in rows.pr_suggestions] == [(DAY, "bug_risk", 5, 3), (DAY, "security", 3, 2)]
    assert rows.cli == [{"day": DAY, "session_count": 5, "request_count": 30, "prompt_count": 12,
                         "prompt_tokens_sum": 4000, "output_tokens_sum": 900, "avg_tokens_per_request": 163.33,
                         "cli_version": "1.0.12"}]
    assert rows.app == [{"day": DAY, "session_count": 2, "request_count": 6, "prompt_count": 3,
                         "prompt_tokens_sum": 700, "output_tokens_sum": 100, "avg_tokens_per_request": 133.33}]
    assert rows.third_party_agents == [
        {"day": DAY, "agent_id": "anthropic-claude", "agent_name": "Claude", "user_initiated_interaction_count": 5,
         "session_count": None},  # session_count absent: null, not 0
        {"day": DAY, "agent_id": "openai-codex", "agent_name": "Codex", "user_initiated_interaction_count": 7,
         "session_count": 2},
    ]
    # a third-party agent's interactions are never added to the top-level count
    assert rows.usage["user_initiated_interaction_count"] == 40


def test_absent_fields_are_null_and_give_no_rows_and_zero_stays_zero():
    rows = parsing.parse_org_day(org_day())
    assert all(rows.usage[k] is None for k in SURFACE_USER_FIELDS)
    assert (rows.pull_requests, rows.pr_suggestions, rows.cli, rows.app, rows.third_party_agents) == ([],) * 5
    nulls = parsing.parse_org_day(org_day(daily_active_copilot_cloud_agent_users=None, pull_requests=None,
                                          totals_by_cli=None))
    assert nulls.usage["daily_active_copilot_cloud_agent_users"] is None and nulls.pull_requests == []
    zeros = parsing.parse_org_day(org_day(daily_active_copilot_cloud_agent_users=0,
                                          pull_requests={"total_created": 0}))
    assert zeros.usage["daily_active_copilot_cloud_agent_users"] == 0
    assert zeros.pull_requests[0]["total_created"] == 0 and zeros.pull_requests[0]["total_merged"] is None


def test_the_coding_agent_and_the_cloud_agent_names_land_in_the_same_column():
    old = parsing.parse_org_day(org_day(daily_active_copilot_coding_agent_users=4,
                                        monthly_active_copilot_coding_agent_users=11))
    assert old.usage["daily_active_copilot_cloud_agent_users"] == 4
    assert old.usage["monthly_active_copilot_cloud_agent_users"] == 11
    both = parsing.parse_org_day(org_day(daily_active_copilot_coding_agent_users=4,
                                         daily_active_copilot_cloud_agent_users=6))
    assert both.usage["daily_active_copilot_cloud_agent_users"] == 6  # the current name wins
    users, _ = parsing.join_users_teams(
        [{"user_id": 1, "day": DAY.isoformat(), "used_copilot_coding_agent": True},
         {"user_id": 2, "day": DAY.isoformat(), "used_copilot_cloud_agent": False},
         {"user_id": 3, "day": DAY.isoformat()}], [], DAY)
    assert [u["used_copilot_cloud_agent"] for u in users] == [True, False, None]


def test_per_user_2026_fields():
    rec = {"user_id": 1, "day": DAY.isoformat(), "used_copilot_code_review_active": True,
           "used_copilot_code_review_passive": False, "used_copilot_app": True, "ai_credits_used": 12.25,
           "ai_adoption_phase": {"phase_number": 3, "phase": "agent_first", "version": "2026-05"}}
    [row], _ = parsing.join_users_teams([rec], [], DAY)
    assert {k: row[k] for k in ("used_copilot_code_review_active", "used_copilot_code_review_passive",
                                "used_copilot_app", "ai_credits_used", "ai_adoption_phase",
                                "ai_adoption_phase_number")} == {
        "used_copilot_code_review_active": True, "used_copilot_code_review_passive": False,
        "used_copilot_app": True, "ai_credits_used": 12.25, "ai_adoption_phase": "agent_first",
        "ai_adoption_phase_number": 3}
    users, _ = parsing.join_users_teams([{"user_id": 2, "day": DAY.isoformat(), "ai_credits_used": 0,
                                          "ai_adoption_phase": "passive"}], [], DAY)
    assert (users[0]["ai_credits_used"], users[0]["ai_adoption_phase"], users[0]["ai_adoption_phase_number"]) == (
        0.0, "passive", None)


@pytest.mark.parametrize("bad", [
    {"pull_requests": [1]}, {"pull_requests": {"median_minutes_to_merge": -1}},
    {"pull_requests": {"total_merged": True}}, {"totals_by_cli": "x"},
    {"totals_by_cli": {"token_usage": {"avg_tokens_per_request": "many"}}},
    {"totals_by_3rd_party_agent": {"agent_id": "x"}}, {"daily_active_copilot_coding_agent_users": -2},
])
def test_malformed_2026_fields_are_malformed_reports(bad):
    with pytest.raises(MalformedReport):
        parsing.parse_org_day(org_day(**bad))


def test_a_user_record_with_malformed_credits_is_skipped_and_counted():
    skipped: Counter[str] = Counter()
    users, _ = parsing.join_users_teams([{"user_id": 1, "day": DAY.isoformat(), "ai_credits_used": "lots"},
                                         {"user_id": 2, "day": DAY.isoformat(), "ai_credits_used": 3}], [], DAY,
                                        skipped=skipped)
    assert [u["user_id"] for u in users] == [2] and sum(skipped.values()) == 1


# ----------------------------------------------------------------------------- seats per plan and their cost
SNAP = datetime(2026, 5, 8, 6, 0, tzinfo=UTC)


def seat(uid: int, last: str | None, plan: str | None) -> dict:
    return {"assignee": {"id": uid, "login": f"u{uid}"}, "last_activity_at": last, "plan_type": plan}


SEATS = [
    seat(1, "2026-05-07T10:00:00Z", "business"), seat(2, None, "business"), seat(3, "2026-03-01T00:00:00Z", None),
    seat(4, None, "enterprise"), seat(5, "2026-03-02T00:00:00Z", "enterprise"), seat(6, "2026-05-01T00:00:00Z",
                                                                                      "enterprise"),
]
BILLING = {"seat_breakdown": {"total": 6}, "plan_type": "business"}


def test_seats_per_plan_add_up_to_the_snapshot():
    plans = parsing.parse_seat_plans(BILLING, SEATS, SNAP, DAY)
    assert plans == [
        {"day": DAY, "plan_type": "business", "seats": 3, "never_used": 1, "dormant_30d": 1},  # seat 3: billing's
        {"day": DAY, "plan_type": "enterprise", "seats": 3, "never_used": 1, "dormant_30d": 1},
    ]
    snap = parsing.parse_seats(BILLING, SEATS, SNAP, DAY)
    for col, total in (("seats", snap["listed_seats"]), ("never_used", snap["never_used"]),
                       ("dormant_30d", snap["dormant_30d"])):
        assert sum(p[col] for p in plans) == total
    unknown = parsing.parse_seat_plans({"seat_breakdown": {}}, [seat(9, None, None)], SNAP, DAY)
    assert unknown[0]["plan_type"] == "unknown"


def test_cost_of_unused_seats_reconciles_per_plan():
    """Cost of unused seats = (never used + dormant) × price, per plan; a team-day costs price / days in month."""
    prices = CostResource().prices()
    tables, snapshot = derive.seat_tables(BILLING, SEATS, SNAP, DAY, prices)
    plans = {p["plan_type"]: p for p in tables["copilot_seat_plan_daily"]}
    days = days_in_month(DAY)
    assert days == 31
    for plan, price in (("business", 19.0), ("enterprise", 39.0)):
        p = plans[plan]
        assert p["seat_price_usd_month"] == price
        unused_month = (p["never_used"] + p["dormant_30d"]) * price
        assert (p["never_used_cost_usd"] + p["dormant_30d_cost_usd"]) * days == pytest.approx(unused_month)
        assert p["seat_cost_usd"] == pytest.approx(p["seats"] * price / days)
        assert p["parser_version"] == parsing.PARSER_VERSION
    assert snapshot["seat_cost_usd"] == pytest.approx((3 * 19 + 3 * 39) / 31)
    assert snapshot["never_used_cost_usd"] + snapshot["dormant_30d_cost_usd"] == pytest.approx((2 * 19 + 2 * 39) / 31)
    # a whole month of team-days adds up to the monthly price
    assert sum(seat_cost_usd(3, 19.0, date(2026, 2, d)) for d in range(1, 29)) == pytest.approx(3 * 19.0)


def test_a_plan_without_a_price_has_no_cost_and_the_total_says_unknown():
    tables, snapshot = derive.seat_tables(BILLING, SEATS, SNAP, DAY, SeatPrices({"business": 19.0}))
    enterprise = next(p for p in tables["copilot_seat_plan_daily"] if p["plan_type"] == "enterprise")
    assert enterprise["seat_price_usd_month"] is None and enterprise["seat_cost_usd"] is None
    assert snapshot["seat_cost_usd"] is None  # a partial sum would understate
    assert seat_cost_usd(5, None, DAY) is None
    no_seats, empty = derive.seat_tables(BILLING, [], SNAP, DAY, SeatPrices({"business": 19.0}))
    assert no_seats["copilot_seat_plan_daily"] == [] and empty["seat_cost_usd"] == 0.0


def test_budget_share_and_prices_config():
    assert share_of_budget(250.0, 1000.0) == 0.25
    assert share_of_budget(1500.0, 1000.0) == 1.5
    assert share_of_budget(None, 1000.0) is None and share_of_budget(5.0, None) is None
    assert share_of_budget(5.0, 0.0) is None
    prices = CostResource(enterprise_usd_per_seat_month=None, unknown_plan_usd_per_seat_month=10.0).prices()
    assert (prices.monthly("business"), prices.monthly("enterprise"), prices.monthly("unknown")) == (19.0, None, 10.0)


def test_every_derived_row_carries_the_parser_version():
    _, tables = derive.usage_tables(org_day(**copy.deepcopy(SURFACES_2026)), DAY, "organization-1-day",
                                    datetime(2026, 5, 8, tzinfo=UTC))
    assert set(tables) == set(derive.USAGE_TABLES)
    for name, rows in tables.items():
        assert rows or name in ("copilot_language_daily", "copilot_editor_daily", "copilot_model_daily",
                                "copilot_feature_daily"), name  # this record has no breakdowns
        assert all(r["parser_version"] == parsing.PARSER_VERSION and "day" not in r for r in rows)
