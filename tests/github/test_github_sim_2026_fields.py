"""The simulator's 2026 fields: consistent with each other and with the usage data, absent before GitHub added
them and on the deterministic "field absent" day, and the data that existed before them unchanged."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

import pytest

from simulators import github_activity as act
from simulators import github_data as gd

ORG = "acme-corp"
SEATS = 50
NEW_KEYS = ("cli_users", "totals_by_cli", "totals_by_copilot_app", "totals_by_3rd_party_agent",
            "totals_by_ai_adoption_phase", "pull_requests", "copilot_app", "cloud_agent", "coding_agent",
            "code_review", "ai_credits_used", "ai_adoption_phase")


def _without_2026(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if not any(n in k for n in NEW_KEYS)}


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


# digests of the data as the simulator served it before the 2026 fields existed
BEFORE = {
    ("org", "2026-03-01"): "b701e82ab073cb68", ("users", "2026-03-01"): "c1dcc4d3624e9812",
    ("org", "2026-09-15"): "f48c04220c04a7d3", ("users", "2026-09-15"): "4466bb56ee64494d",
    ("org", "2026-11-20"): "0b9d06febb21e347", ("users", "2026-11-20"): "b31509319e8f2ea1",
}


@pytest.mark.parametrize("day", ["2026-03-01", "2026-09-15", "2026-11-20"])
def test_the_data_that_existed_before_is_unchanged(day: str) -> None:
    d = date.fromisoformat(day)
    assert _digest(_without_2026(gd.org_day(ORG, d, SEATS))) == BEFORE[("org", day)]
    assert _digest([_without_2026(r) for r in gd.users_1_day_rows(ORG, d, SEATS)]) == BEFORE[("users", day)]
    assert _digest(gd.billing(ORG, SEATS, date(2026, 11, 25))) == "452c66d807a6499c"
    assert _digest(gd.seats_page(ORG, SEATS, date(2026, 11, 25), 1, 100)) == "69fb0842564095f7"


def _days(start: date, n: int):
    return [start + timedelta(days=k) for k in range(n)]


def test_pull_requests_are_consistent_every_day() -> None:
    seen_null_median = False
    for d in _days(date(2026, 1, 1), 330):
        pr = act.pull_requests(ORG, d, SEATS)
        assert 0 <= pr["total_merged"] <= pr["total_created"]
        assert pr["total_reviewed"] <= pr["total_created"]
        assert pr["total_merged_created_by_copilot"] <= min(pr["total_merged"], pr["total_created_by_copilot"])
        assert pr["total_merged_reviewed_by_copilot"] <= min(pr["total_merged"], pr["total_reviewed_by_copilot"])
        for n, median in ((pr["total_merged"], pr["median_minutes_to_merge"]),
                          (pr["total_merged_created_by_copilot"], pr["median_minutes_to_merge_copilot_authored"]),
                          (pr["total_merged_reviewed_by_copilot"], pr["median_minutes_to_merge_copilot_reviewed"])):
            assert (median is not None and median > 0) if n else median is None
            seen_null_median |= median is None
        by_type = pr["copilot_suggestions_by_comment_type"]
        assert sum(t["total_copilot_suggestions"] for t in by_type) == pr["total_copilot_suggestions"]
        assert sum(t["total_copilot_applied_suggestions"] for t in by_type) == pr["total_copilot_applied_suggestions"]
        assert pr["total_copilot_applied_suggestions"] <= pr["total_copilot_suggestions"] <= pr["total_suggestions"]
        assert pr["total_applied_suggestions"] <= pr["total_suggestions"]
        if d < act.ADDED["cloud_agent"]:
            assert pr["total_created_by_copilot"] == 0
    assert seen_null_median


def test_org_totals_are_the_sums_and_counts_of_the_user_records() -> None:
    d = date(2026, 11, 20)
    assert act.absent_group(ORG, d) is None
    org = gd.org_day(ORG, d, SEATS)
    users = list(gd.users_1_day_rows(ORG, d, SEATS))
    cli = [u["totals_by_cli"] for u in users if "totals_by_cli" in u]
    assert org["daily_active_cli_users"] == len(cli) == sum(u["used_cli"] for u in users) > 0
    assert org["totals_by_cli"]["request_count"] == sum(c["request_count"] for c in cli)
    app = [u for u in users if u["used_copilot_app"]]
    assert org["daily_active_copilot_app_users"] == len(app)
    assert org["totals_by_copilot_app"]["session_count"] == sum(u["totals_by_copilot_app"]["session_count"]
                                                               for u in app)
    assert org["daily_active_copilot_cloud_agent_users"] == sum(u["used_copilot_cloud_agent"] for u in users)
    assert org["daily_active_copilot_code_review_users"] == sum(u["used_copilot_code_review_active"] for u in users)
    assert (org["daily_active_copilot_cloud_agent_users"] <= org["weekly_active_copilot_cloud_agent_users"]
            <= org["monthly_active_copilot_cloud_agent_users"] <= SEATS)
    third = [a for u in users for a in u.get("totals_by_3rd_party_agent", [])]
    assert sum(a["user_initiated_interaction_count"] for a in org["totals_by_3rd_party_agent"]) == sum(
        a["user_initiated_interaction_count"] for a in third)
    assert all("session_count" not in a for a in third)  # session_count only on aggregate reports
    phases = {p["phase"]: p["total_engaged_users"] for p in org["totals_by_ai_adoption_phase"]}
    assert set(phases) <= {p for _, p in act.PHASES} and sum(phases.values()) == len(users)
    assert all(u["ai_credits_used"] >= 0 for u in users) and any(u["ai_credits_used"] > 0 for u in users)


def test_fields_are_absent_before_github_added_them_and_on_the_field_absent_day() -> None:
    early = gd.org_day(ORG, date(2026, 3, 1), SEATS)
    assert "pull_requests" in early or act.absent_group(ORG, date(2026, 3, 1)) == "pull_requests"
    assert not any(k in early for k in ("daily_active_cli_users", "daily_active_copilot_cloud_agent_users",
                                        "daily_active_copilot_code_review_users", "daily_active_copilot_app_users",
                                        "totals_by_3rd_party_agent", "totals_by_ai_adoption_phase"))
    [user] = list(gd.users_1_day_rows(ORG, date(2026, 3, 1), SEATS))[:1]
    assert not any(k in user for k in ("ai_credits_used", "ai_adoption_phase", "used_copilot_cloud_agent",
                                       "used_copilot_coding_agent"))
    # the cloud agent under its old name first, then the new one
    coding = gd.org_day(ORG, date(2026, 4, 20), SEATS)
    assert "daily_active_copilot_coding_agent_users" in coding
    assert "daily_active_copilot_cloud_agent_users" not in coding
    # a deterministic day without one group of fields: its keys are absent, not 0
    absent = [(d, act.absent_group(ORG, d)) for d in _days(date(2026, 9, 1), 90) if act.absent_group(ORG, d)]
    assert absent
    for d, group in absent:
        obj = gd.org_day(ORG, d, SEATS)
        if group == "pull_requests":
            assert "pull_requests" not in obj
        if group == "cloud_agent":
            assert "daily_active_copilot_cloud_agent_users" not in obj
        if group == "ai_credits":
            assert all("ai_credits_used" not in u for u in gd.users_1_day_rows(ORG, d, SEATS))


def test_plan_type_per_seat_when_the_org_mixes_plans() -> None:
    page = gd.seats_page(ORG, 20, date(2026, 11, 25), 1, 100, enterprise_every=4)
    assert [s["plan_type"] for s in page].count("enterprise") == 5
    assert {s["plan_type"] for s in gd.seats_page(ORG, 20, date(2026, 11, 25), 1, 100)} == {"business"}
