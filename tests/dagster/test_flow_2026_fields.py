"""The 2026 report fields through the real assets over HTTP: every new column equals what the simulator
served, a field GitHub omitted is stored as NULL (never 0), both cloud-agent names land in one column, and
seat cost per plan reconciles with the seats the simulator listed."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flow_support import SEATS, USAGE, USER_USAGE, mats, today

from copilot_assets.metrics import days_in_month
from copilot_assets.parsing import PARSER_VERSION
from resources.cost import BUSINESS_LIST_PRICE_USD, ENTERPRISE_LIST_PRICE_USD
from resources.tables import PULL_REQUEST_COUNTS, PULL_REQUEST_MEDIANS, SURFACE_USER_FIELDS, USER_SURFACE_FLAGS
from simulators import github_activity as act
from simulators import github_data as gd

ORG = "acme-org"
NEW_TABLES = ("copilot_pull_request_daily", "copilot_pr_suggestion_daily", "copilot_cli_daily", "copilot_app_daily",
              "copilot_third_party_agent_daily")


def _served_column(obj: dict[str, Any], column: str, day: date) -> Any:
    """What the simulator sent for a column, under the name it used that day (the cloud agent's old name)."""
    return obj.get(column.replace("copilot_cloud_agent", f"copilot_{act.cloud_agent_name(day)}_agent"))


def _surface(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    if obj is None:
        return None
    tokens = obj["token_usage"]
    return {"session_count": obj["session_count"], "request_count": obj["request_count"],
            "prompt_count": obj["prompt_count"], "prompt_tokens_sum": tokens["prompt_tokens_sum"],
            "output_tokens_sum": tokens["output_tokens_sum"],
            "avg_tokens_per_request": tokens["avg_tokens_per_request"]}


def _row(flow, table: str, day: date) -> dict[str, Any] | None:
    rows = flow.rows(table, "acme", day)
    assert len(rows) <= 1
    return {k: v for k, v in rows[0].items() if k not in ("team_id", "day", "parser_version", "cli_version")} \
        if rows else None


def _complete_day() -> date:
    """A recent day that carries every 2026 group (no field absent)."""
    d = today() - timedelta(days=2)
    while act.absent_group(ORG, d) is not None:
        d -= timedelta(days=1)
    return d


def test_every_new_column_equals_what_the_simulator_served(flow) -> None:
    flow.add_team("acme", ORG, enterprise_every=4)
    day = _complete_day()
    result = flow.team_day("acme", day, USAGE, USER_USAGE)
    assert result.success
    served = gd.org_day(ORG, day, 50)

    [usage] = flow.rows("copilot_usage_daily", "acme", day)
    assert {c: usage[c] for c in SURFACE_USER_FIELDS} == {c: _served_column(served, c, day)
                                                          for c in SURFACE_USER_FIELDS}
    assert usage["daily_active_copilot_cloud_agent_users"] > 0 and usage["parser_version"] == PARSER_VERSION

    pr = served["pull_requests"]
    assert _row(flow, "copilot_pull_request_daily", day) == {c: pr[c] for c in (*PULL_REQUEST_COUNTS,
                                                                                  *PULL_REQUEST_MEDIANS)}
    assert {r["comment_type"]: (r["total_copilot_suggestions"], r["total_copilot_applied_suggestions"])
            for r in flow.rows("copilot_pr_suggestion_daily", "acme", day)} == {
        t["comment_type"]: (t["total_copilot_suggestions"], t["total_copilot_applied_suggestions"])
        for t in pr["copilot_suggestions_by_comment_type"]}
    assert _row(flow, "copilot_cli_daily", day) == _surface(served["totals_by_cli"])
    assert flow.rows("copilot_cli_daily", "acme", day)[0]["cli_version"] == act.CLI_VERSION
    assert _row(flow, "copilot_app_daily", day) == _surface(served.get("totals_by_copilot_app"))
    assert {r["agent_id"]: (r["agent_name"], r["user_initiated_interaction_count"], r["session_count"])
            for r in flow.rows("copilot_third_party_agent_daily", "acme", day)} == {
        a["agent_id"]: (a["agent_name"], a["user_initiated_interaction_count"], a["session_count"])
        for a in served["totals_by_3rd_party_agent"]}
    # the top-level count stays GitHub's own (third-party agent interactions are never added to it)
    assert usage["user_initiated_interaction_count"] == served["user_initiated_interaction_count"]

    users = {r["user_id"]: r for r in flow.rows("copilot_user_daily", "acme", day)}
    records = list(gd.users_1_day_rows(ORG, day, 50))
    assert len(users) == len(records)
    for rec in records:
        row = users[rec["user_id"]]
        assert {f: row[f] for f in USER_SURFACE_FLAGS} == {f: _served_column(rec, f, day) for f in USER_SURFACE_FLAGS}
        assert row["ai_credits_used"] == rec["ai_credits_used"]
        assert (row["ai_adoption_phase"], row["ai_adoption_phase_number"]) == (
            rec["ai_adoption_phase"]["phase"], rec["ai_adoption_phase"]["phase_number"])
        assert row["parser_version"] == PARSER_VERSION
    md = mats(result, USER_USAGE)[f"{day.isoformat()}|acme"]
    assert md["ai_credits_used"] == round(sum(r["ai_credits_used"] for r in records), 2)
    for table in NEW_TABLES:
        assert all(r["parser_version"] == PARSER_VERSION for r in flow.rows(table, "acme", day)), table


def _absent_checks(flow, day: date, group: str) -> None:
    """The columns and rows of ``group`` on a day GitHub left it out: NULL or no row, never 0."""
    [usage] = flow.rows("copilot_usage_daily", "acme", day)
    users = flow.rows("copilot_user_daily", "acme", day)
    columns = {"cloud_agent": [c for c in SURFACE_USER_FIELDS if "cloud_agent" in c],
               "code_review": [c for c in SURFACE_USER_FIELDS if "code_review" in c],
               "cli": ["daily_active_cli_users"], "app": ["daily_active_copilot_app_users"]}.get(group, [])
    assert columns or group in ("pull_requests", "third_party", "ai_credits", "adoption_phase")
    assert all(usage[c] is None for c in columns), group
    user_fields = {"cloud_agent": ["used_copilot_cloud_agent"], "app": ["used_copilot_app"],
                   "code_review": ["used_copilot_code_review_active", "used_copilot_code_review_passive"],
                   "ai_credits": ["ai_credits_used"], "adoption_phase": ["ai_adoption_phase",
                                                                         "ai_adoption_phase_number"]}.get(group, [])
    assert users and all(u[f] is None for u in users for f in user_fields), group
    tables = {"pull_requests": ["copilot_pull_request_daily", "copilot_pr_suggestion_daily"],
              "cli": ["copilot_cli_daily"], "app": ["copilot_app_daily"],
              "third_party": ["copilot_third_party_agent_daily"]}.get(group, [])
    assert all(flow.rows(t, "acme", day) == [] for t in tables), group


def test_an_omitted_field_is_null_not_zero_and_both_agent_names_share_a_column(flow) -> None:
    flow.add_team("acme", ORG)
    window_start = today() - timedelta(days=360)
    absent = next(d for d in (today() - timedelta(days=k) for k in range(2, 360))
                  if act.absent_group(ORG, d) is not None and d >= max(act.ADDED.values()))
    coding_era = date(2026, 4, 20)  # cloud agent present under its old name ("coding agent")
    before = date(2026, 3, 15)  # before GitHub added the cloud agent, code review, CLI, app, credits, phases
    if before < window_start:
        pytest.skip("the simulator's one-year history no longer reaches back before 2026-04-10")
    assert act.absent_group(ORG, coding_era) is None and act.absent_group(ORG, before) is None
    for day in (absent, coding_era, before):
        assert flow.team_day("acme", day, USAGE, USER_USAGE).success

    group = act.absent_group(ORG, absent)
    _absent_checks(flow, absent, group)
    served = gd.org_day(ORG, absent, 50)
    [usage] = flow.rows("copilot_usage_daily", "acme", absent)
    present = [c for c in SURFACE_USER_FIELDS if _served_column(served, c, absent) is not None]
    assert present and all(usage[c] == _served_column(served, c, absent) for c in present)

    # the coding-agent era: the old field names land in the cloud-agent columns
    old = gd.org_day(ORG, coding_era, 50)
    assert "daily_active_copilot_cloud_agent_users" not in old
    [usage] = flow.rows("copilot_usage_daily", "acme", coding_era)
    for span in ("daily", "weekly", "monthly"):
        assert usage[f"{span}_active_copilot_cloud_agent_users"] == old[f"{span}_active_copilot_coding_agent_users"]
    flags = {u["user_id"]: u["used_copilot_cloud_agent"] for u in flow.rows("copilot_user_daily", "acme", coding_era)}
    assert flags == {r["user_id"]: r["used_copilot_coding_agent"] for r in gd.users_1_day_rows(ORG, coding_era, 50)}
    assert True in flags.values() and False in flags.values()

    # before GitHub added them: every 2026 column is NULL (0 would claim nobody used them)
    for group in ("cloud_agent", "code_review", "cli", "app", "third_party", "ai_credits", "adoption_phase"):
        _absent_checks(flow, before, group)
    assert flow.rows("copilot_pull_request_daily", "acme", before)  # PR metrics existed already


def test_seat_cost_per_plan_reconciles_with_the_listed_seats(flow) -> None:
    flow.add_team("acme", ORG, enterprise_every=4)
    day = today() - timedelta(days=1)
    result = flow.team_day("acme", day, SEATS)
    assert result.success
    listed = gd.seats_page(ORG, 50, today(), 1, 100, enterprise_every=4)
    plans = {p["plan_type"]: p for p in flow.rows("copilot_seat_plan_daily", "acme", day)}
    assert set(plans) == {"business", "enterprise"}
    days = days_in_month(day)
    for plan, price in (("business", BUSINESS_LIST_PRICE_USD), ("enterprise", ENTERPRISE_LIST_PRICE_USD)):
        mine = [s for s in listed if s["plan_type"] == plan]
        never = sum(1 for s in mine if s["last_activity_at"] is None)
        p = plans[plan]
        assert (p["seats"], p["never_used"], p["seat_price_usd_month"]) == (len(mine), never, price)
        # cost of unused seats = (never used + dormant) × price (per month; a team-day is price / days)
        assert (p["never_used_cost_usd"] + p["dormant_30d_cost_usd"]) * days == pytest.approx(
            (p["never_used"] + p["dormant_30d"]) * price)
        assert p["seat_cost_usd"] * days == pytest.approx(len(mine) * price)
    [snap] = flow.rows("copilot_seat_snapshots", "acme", day)
    assert snap["seat_cost_usd"] == pytest.approx(sum(p["seat_cost_usd"] for p in plans.values()))
    assert snap["never_used"] == sum(p["never_used"] for p in plans.values())
    assert snap["dormant_30d"] == sum(p["dormant_30d"] for p in plans.values()) > 0
    assert snap["parser_version"] == PARSER_VERSION
    assert flow.raw_report("acme", day, "seats") == listed  # kept raw: the snapshot can be re-derived
    md = mats(result, SEATS)[f"{day.isoformat()}|acme"]
    assert md["seat_cost_usd"] == round(snap["seat_cost_usd"], 2)
