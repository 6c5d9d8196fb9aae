"""The facts of the 2026 report fields and of seat money: pull requests, agents and code review, AI credits,
the cost of seats. Their definitions are in the table of insights_assets/facts.py (one definition each);
``compute_facts`` calls these with frames already cut to the window.

Null is not 0: a fact is absent when GitHub reported nothing it could come from (a column with only nulls in
the window). Distinct-user facts count distinct ``user_id`` over the window, never a sum of daily counts; a
median is never summed or averaged across days.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from copilot_assets.metrics import RATIO_DISPLAY_DIGITS, share_of_budget

if TYPE_CHECKING:
    import pandas as pd

PR_SUMS = {
    "prs_created": "total_created",
    "prs_reviewed": "total_reviewed",
    "prs_merged": "total_merged",
    "prs_created_by_copilot": "total_created_by_copilot",
    "prs_reviewed_by_copilot": "total_reviewed_by_copilot",
    "pr_copilot_suggestions": "total_copilot_suggestions",
    "pr_copilot_suggestions_applied": "total_copilot_applied_suggestions",
}
USER_FLAG_FACTS = {
    "cloud_agent_users_distinct": "used_copilot_cloud_agent",
    "code_review_users_distinct": "used_copilot_code_review_active",
    "cli_users_distinct": "used_cli",
}
FACT_NAMES = (
    *PR_SUMS, "pr_median_minutes_to_merge", "pr_copilot_suggestion_applied_rate",
    "agent_users_distinct", "agent_adoption_rate", *USER_FLAG_FACTS,
    "ai_credits_used", "ai_credits_month_to_date", "ai_credit_budget", "ai_credit_budget_used",
    "seat_price_usd", "seat_cost_usd_month", "unused_seat_cost_usd_month",
)
RATIO_FACTS = frozenset({"pr_copilot_suggestion_applied_rate", "agent_adoption_rate", "ai_credit_budget_used"})
USD_FACTS = frozenset({"seat_price_usd", "seat_cost_usd_month", "unused_seat_cost_usd_month",
                       # money facts of insights stored before the seat prices per plan: still checked
                       "monthly_seat_cost_usd", "inactive_seat_cost_usd"})
MINUTE_FACTS = frozenset({"pr_median_minutes_to_merge"})
CREDIT_FACTS = frozenset({"ai_credits_used", "ai_credits_month_to_date", "ai_credit_budget"})


def _known(frame: pd.DataFrame, column: str) -> pd.Series | None:
    """The column's non-null values, or None when the frame lacks it or GitHub never said."""
    if frame.empty or column not in frame.columns:
        return None
    values = frame[column].dropna()
    return None if values.empty else values


def pull_request_facts(prs: pd.DataFrame) -> dict[str, float | int]:
    out: dict[str, float | int] = {}
    for fact, column in PR_SUMS.items():
        values = _known(prs, column)
        if values is not None:
            out[fact] = int(values.sum())
    medians = _known(prs, "median_minutes_to_merge")
    if medians is not None:
        out["pr_median_minutes_to_merge"] = round(float(medians.astype(float).median()), 1)
    if out.get("pr_copilot_suggestions", 0) > 0 and "pr_copilot_suggestions_applied" in out:
        out["pr_copilot_suggestion_applied_rate"] = round(
            out["pr_copilot_suggestions_applied"] / out["pr_copilot_suggestions"], RATIO_DISPLAY_DIGITS)
    return out


def _distinct_true(users: pd.DataFrame, *columns: str) -> int | None:
    present = [c for c in columns if _known(users, c) is not None]
    if not present:
        return None
    mask = users[present[0]].eq(True)
    for c in present[1:]:
        mask |= users[c].eq(True)
    return int(users.loc[mask, "user_id"].nunique())


def user_facts(users: pd.DataFrame) -> dict[str, float | int]:
    """Agent, code-review and CLI adoption (distinct users over the window) and AI credits used."""
    out: dict[str, float | int] = {}
    if users.empty:
        return out
    agents = _distinct_true(users, "used_agent", "used_copilot_cloud_agent")
    if agents is not None:
        out["agent_users_distinct"] = agents
        reported = int(users["user_id"].nunique())
        if reported:
            out["agent_adoption_rate"] = round(agents / reported, RATIO_DISPLAY_DIGITS)
    for fact, column in USER_FLAG_FACTS.items():
        n = _distinct_true(users, column)
        if n is not None:
            out[fact] = n
    credits = _known(users, "ai_credits_used")
    if credits is not None:
        out["ai_credits_used"] = round(float(credits.sum()), 2)
    return out


def credit_budget_facts(month_to_date: float | None, budget: float | None) -> dict[str, float | int]:
    out: dict[str, float | int] = {}
    if month_to_date is not None:
        out["ai_credits_month_to_date"] = round(float(month_to_date), 2)
    if budget is not None:
        out["ai_credit_budget"] = round(float(budget), 2)
        share = share_of_budget(month_to_date, budget)
        if share is not None:
            out["ai_credit_budget_used"] = round(share, RATIO_DISPLAY_DIGITS)
    return out


def seat_money_facts(plans: list[dict[str, Any]] | None) -> dict[str, float | int]:
    """Monthly seat cost and the monthly cost of unused seats (never used + dormant) at the stored prices;
    absent when a plan with seats has no price (a partial sum would understate)."""
    plans = [p for p in plans or [] if p.get("seats")]
    if not plans or any(p.get("seat_price_usd_month") is None for p in plans):
        return {}
    out: dict[str, float | int] = {
        "seat_cost_usd_month": round(sum(p["seats"] * p["seat_price_usd_month"] for p in plans), 2),
        "unused_seat_cost_usd_month": round(sum((p["never_used"] + p["dormant_30d"]) * p["seat_price_usd_month"]
                                                for p in plans), 2),
    }
    if len({p["seat_price_usd_month"] for p in plans}) == 1:
        out["seat_price_usd"] = round(float(plans[0]["seat_price_usd_month"]), 2)
    return out
