"""Fuzzing the report parsers: any JSON-like input ends in rows or MalformedReport, never another exception."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copilot_assets import parsing
from resources.github_errors import MalformedReport

DAY = date(2026, 5, 7)
SNAP = datetime(2026, 5, 8, 6, 0, tzinfo=UTC)
FUZZ = settings(max_examples=200, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

FIELD_NAMES = [
    "day", "user_id", "user_login", "team_id", "slug", "ide", "feature", "language", "model",
    "daily_active_users", "monthly_active_users", "user_initiated_interaction_count",
    "code_generation_activity_count", "code_acceptance_activity_count", "loc_added_sum",
    "loc_suggested_to_add_sum", "loc_deleted_sum", "chat_panel_agent_mode", "chat_panel_ask_mode",
    "totals_by_ide", "totals_by_feature", "totals_by_language_feature", "totals_by_model_feature",
    "day_totals", "used_chat", "used_agent", "used_cli", "seat_breakdown", "total", "active_this_cycle",
    "plan_type", "seat_management_setting", "assignee", "id", "login", "last_activity_at",
    # the 2026 fields
    "pull_requests", "total_merged", "median_minutes_to_merge", "copilot_suggestions_by_comment_type",
    "comment_type", "totals_by_cli", "totals_by_copilot_app", "token_usage", "avg_tokens_per_request",
    "totals_by_3rd_party_agent", "agent_id", "agent_name", "daily_active_copilot_coding_agent_users",
    "used_copilot_cloud_agent", "used_copilot_coding_agent", "ai_credits_used", "ai_adoption_phase",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["2026-05-07", "2026-05-06", "2026-02-30", "2021-10-14T00:53:32-06:00",
                     "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "", "\x00", "x" * 300]),
)
keys = st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=12))
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(keys, children, max_size=4)),
    max_leaves=10,
)
json_objects = st.dictionaries(keys, json_values, max_size=5)
# a replacement value in a mutated record: often well-typed (the parser must then produce rows), often not
plausible_or_not = st.one_of(st.none(), st.integers(min_value=0, max_value=1000),
                             st.sampled_from(["2026-05-07", "alice", "vscode"]), json_values)


def valid_org_day() -> dict[str, Any]:
    return {
        "day": "2026-05-07",
        "daily_active_users": 3,
        "user_initiated_interaction_count": 10,
        "chat_panel_agent_mode": 2,
        "code_generation_activity_count": 20,
        "code_acceptance_activity_count": 5,
        "loc_added_sum": 7,
        "totals_by_ide": [{"ide": "vscode", "code_generation_activity_count": 20}],
        "totals_by_feature": [{"feature": "chat_panel_agent_mode", "user_initiated_interaction_count": 2},
                              {"feature": "agent_edit", "user_initiated_interaction_count": 1}],
        "totals_by_language_feature": [{"language": "python", "feature": "code_completion",
                                        "code_generation_activity_count": 20}],
        "totals_by_model_feature": [{"model": "auto", "feature": "code_completion",
                                     "code_acceptance_activity_count": 5}],
        "daily_active_copilot_cloud_agent_users": 1,
        "pull_requests": {"total_created": 3, "total_merged": 2, "median_minutes_to_merge": 30.5,
                          "copilot_suggestions_by_comment_type": [{"comment_type": "style",
                                                                   "total_copilot_suggestions": 1}]},
        "totals_by_cli": {"session_count": 1, "token_usage": {"avg_tokens_per_request": 10.0}},
        "totals_by_3rd_party_agent": [{"agent_id": "x", "user_initiated_interaction_count": 1}],
    }


def valid_user() -> dict[str, Any]:
    return {"user_id": 1, "user_login": "alice", "day": "2026-05-07", "code_generation_activity_count": 4,
            "code_acceptance_activity_count": 1, "used_chat": True, "used_copilot_coding_agent": True,
            "ai_credits_used": 2.5, "ai_adoption_phase": {"phase": "code_first", "phase_number": 2}}


def valid_member() -> dict[str, Any]:
    return {"user_id": 1, "user_login": "alice", "day": "2026-05-07", "team_id": 42, "slug": "frontend"}


def valid_billing() -> dict[str, Any]:
    return {"seat_breakdown": {"total": 2, "active_this_cycle": 1, "inactive_this_cycle": 1},
            "plan_type": "business", "seat_management_setting": "assign_all"}


def valid_seat() -> dict[str, Any]:
    return {"created_at": "2026-01-01T00:00:00Z", "last_activity_at": "2026-05-01T10:00:00-06:00",
            "plan_type": "business", "assignee": {"login": "octocat", "id": 1}}


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside nested dicts/lists."""
    found: list[tuple] = []
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else []
    for k, v in items:
        found.append((*prefix, k))
        found.extend(_paths(v, (*prefix, k)))
    return found


@st.composite
def mutated(draw, make) -> Any:
    """A valid record with a few values replaced by arbitrary JSON-like values, or keys removed."""
    obj = make()
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(obj)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = obj
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(plausible_or_not)
    return obj


def check(fn, *args) -> Any:
    try:
        return fn(*args)
    except MalformedReport as exc:
        assert exc.http_status is None
        assert str(exc)
        return None


def _check_counter_rows(rows: list[dict]) -> None:
    for row in rows:
        for name in parsing.COUNTERS:
            assert isinstance(row[name], int) and not isinstance(row[name], bool)
            assert 0 <= row[name] <= 2**63 - 1
        rate = row["acceptance_rate"]
        assert rate is None or 0.0 <= rate <= 1.0


def _check_org_day(rows: parsing.OrgDayRows | None) -> None:
    if rows is None:
        return
    assert isinstance(rows.usage["day"], date)
    _check_counter_rows([rows.usage, *rows.languages, *rows.editors, *rows.models, *rows.features])
    for table_rows, key in ((rows.languages, "language"), (rows.editors, "editor"), (rows.models, "model"),
                            (rows.features, "feature")):
        keys_seen = [r[key] for r in table_rows]
        assert len(keys_seen) == len(set(keys_seen))  # primary key holds
    assert len(rows.pull_requests) <= 1 and len(rows.cli) <= 1 and len(rows.app) <= 1
    for table_rows, key in ((rows.pr_suggestions, "comment_type"), (rows.third_party_agents, "agent_id")):
        keys_seen = [r[key] for r in table_rows]
        assert len(keys_seen) == len(set(keys_seen))
    for row in (*rows.pull_requests, *rows.cli, *rows.app, *rows.pr_suggestions, *rows.third_party_agents):
        assert all(v is None or (isinstance(v, int | float | str | date) and not isinstance(v, bool))
                   for v in row.values())
        assert all(v >= 0 for v in row.values() if isinstance(v, int | float))
        assert all(isinstance(k, str) and len(k) <= 200 and "\x00" not in k for k in keys_seen)


# ----------------------------------------------------------------------------- org day / 28 day
@FUZZ
@given(st.one_of(json_values, json_objects))
def test_fuzz_org_day_arbitrary(record):
    _check_org_day(check(parsing.parse_org_day, record))


@FUZZ
@given(mutated(valid_org_day))
def test_fuzz_org_day_mutated(record):
    before = copy.deepcopy(record)
    _check_org_day(check(parsing.parse_org_day, record))
    assert record == before


@FUZZ
@given(st.one_of(json_values, st.lists(json_objects, max_size=3),
                 st.lists(mutated(lambda: {"report_start_day": "2026-04-10",
                                           "day_totals": [valid_org_day(), {**valid_org_day(),
                                                                             "day": "2026-05-06"}]}),
                          max_size=2)))
def test_fuzz_org_28_day(records):
    result = check(parsing.parse_org_28_day, records)
    if result is not None:
        for day, rows in result.items():
            assert rows.usage["day"] == day
            _check_org_day(rows)


# ----------------------------------------------------------------------------- users ⋈ teams
def _check_join(result) -> None:
    if result is None:
        return
    user_rows, team_rows = result
    assert len({r["user_id"] for r in user_rows}) == len(user_rows)
    assert len({r["github_team_id"] for r in team_rows}) == len(team_rows)
    _check_counter_rows(team_rows)
    for r in user_rows:
        assert r["day"] == DAY and (r["user_login"] is None or len(r["user_login"]) <= 100)
        assert isinstance(r["engaged"], bool) and r["github_team_count"] >= 0
    for r in team_rows:
        assert 1 <= r["active_users"] and 0 <= r["engaged_users"] <= r["active_users"]
        assert r["below_threshold"] is (r["active_users"] < 5)
        assert len(r["github_team_slug"]) <= 200


@FUZZ
@given(st.one_of(json_values, st.lists(json_objects, max_size=3)),
       st.one_of(json_values, st.lists(json_objects, max_size=3)))
def test_fuzz_join_arbitrary(users, teams):
    _check_join(check(parsing.join_users_teams, users, teams, DAY))


@FUZZ
@given(st.lists(st.one_of(st.builds(valid_user), mutated(valid_user)), max_size=4),
       st.lists(st.one_of(st.builds(valid_member), mutated(valid_member)), max_size=4))
def test_fuzz_join_mutated(users, teams):
    _check_join(check(parsing.join_users_teams, users, teams, DAY))


# ----------------------------------------------------------------------------- seats
def _check_seats(row) -> None:
    if row is None:
        return
    for name in ("total_seats", "active_seats", "inactive_seats", "pending_invitation", "pending_cancellation",
                 "added_this_cycle", "never_used", "dormant_30d", "listed_seats"):
        assert isinstance(row[name], int) and 0 <= row[name] <= 2**31 - 1
    assert row["never_used"] + row["dormant_30d"] <= row["listed_seats"]
    assert row["snapshot_at"].tzinfo is not None
    assert row["plan_type"] is None or len(row["plan_type"]) <= 32


@FUZZ
@given(st.one_of(json_values, json_objects), st.one_of(json_values, st.lists(json_objects, max_size=3)))
def test_fuzz_seats_arbitrary(billing, seats):
    _check_seats(check(parsing.parse_seats, billing, seats, SNAP, DAY))


@FUZZ
@given(st.one_of(st.builds(valid_billing), mutated(valid_billing)),
       st.lists(st.one_of(st.builds(valid_seat), mutated(valid_seat)), max_size=4))
def test_fuzz_seats_mutated(billing, seats):
    _check_seats(check(parsing.parse_seats, billing, seats, SNAP, DAY))
