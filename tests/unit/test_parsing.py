"""Parsers from raw GitHub Copilot report records to store rows: exact values on hand-written records."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from test_parsing_2026 import SURFACES_2026

from copilot_assets import parsing
from copilot_assets.metrics import acceptance_rate
from resources import tables
from resources.github_errors import MalformedReport

DAY = date(2026, 5, 7)


def org_day(day: str = "2026-05-07") -> dict:
    return {
        "day": day,
        "organization_id": "999",
        "etl_id": "x-1",  # internal key: ignored
        "some_future_field": {"nested": [1, 2, 3]},  # unknown: ignored
        "daily_active_users": 12,
        "weekly_active_users": 20,
        "monthly_active_users": 30,
        "monthly_active_chat_users": 9,
        # monthly_active_agent_users missing -> None
        "user_initiated_interaction_count": 100,
        "chat_panel_agent_mode": 7,
        "chat_panel_ask_mode": 20,
        "chat_panel_edit_mode": 3,
        "chat_panel_unknown_mode": None,
        "code_generation_activity_count": 400,
        "code_acceptance_activity_count": 120,
        "loc_suggested_to_add_sum": 900,
        "loc_suggested_to_delete_sum": 50,
        "loc_added_sum": 300,
        "loc_deleted_sum": 40.0,  # integral float accepted
        "totals_by_ide": [
            {"ide": "vscode", "user_initiated_interaction_count": 60, "code_generation_activity_count": 300,
             "code_acceptance_activity_count": 100, "loc_suggested_to_add_sum": 700, "loc_added_sum": 250,
             "last_known_ide_version": {"ide_version": "1.99"}},
            {"ide": "intellij", "code_generation_activity_count": 100, "code_acceptance_activity_count": 20},
        ],
        "totals_by_feature": [
            {"feature": "code_completion", "code_generation_activity_count": 300,
             "code_acceptance_activity_count": 100},
            {"feature": "chat_panel_ask_mode", "user_initiated_interaction_count": 20},
            {"feature": "chat_panel_agent_mode", "user_initiated_interaction_count": 7},
            {"feature": "agent_edit", "user_initiated_interaction_count": 4, "code_generation_activity_count": 100,
             "code_acceptance_activity_count": 20},
        ],
        "totals_by_language_feature": [
            {"language": "python", "feature": "code_completion", "code_generation_activity_count": 200,
             "code_acceptance_activity_count": 60, "loc_added_sum": 100},
            {"language": "python", "feature": "agent_edit", "code_generation_activity_count": 50,
             "code_acceptance_activity_count": 10, "loc_added_sum": 30},
            {"language": "go", "feature": "code_completion", "code_generation_activity_count": 0,
             "code_acceptance_activity_count": 0},
        ],
        "totals_by_model_feature": [
            {"model": "gpt-4.1", "feature": "chat_panel_ask_mode", "user_initiated_interaction_count": 20},
            {"model": "gpt-4.1", "feature": "code_completion", "code_generation_activity_count": 300,
             "code_acceptance_activity_count": 100},
            {"model": "claude-sonnet-4", "feature": "agent_edit", "user_initiated_interaction_count": 4,
             "code_generation_activity_count": 100, "code_acceptance_activity_count": 20},
        ],
        "totals_by_language_model": [{"language": "python", "model": "auto"}],  # not stored
        "totals_by_cli": {"session_count": 3},  # the 2026 objects: test_parsing_2026.py has them all
        "pull_requests": {"total_created": 5},
    }


def zero_counters(**kw) -> dict:
    return {c: kw.get(c, 0) for c in parsing.COUNTERS}


# ----------------------------------------------------------------------------- acceptance_rate
@pytest.mark.parametrize("generated,accepted,expected", [
    (0, 0, None), (0, 5, None), (None, 3, None), (-1, 1, None),
    (10, 0, 0.0), (10, None, 0.0), (3, 1, 1 / 3), (400, 120, 0.3), (2, 5, 1.0), (7, 7, 1.0),
    (1085, 329, 329 / 1085),  # exact: not rounded to 0.3032 (rounding belongs to display)
    (2**63 - 1, 2**63 - 2, 1.0),
])
def test_acceptance_rate(generated, accepted, expected):
    assert acceptance_rate(generated, accepted) == expected


# ----------------------------------------------------------------------------- org day
def test_parse_org_day_exact_values():
    rows = parsing.parse_org_day(org_day())
    assert rows.usage == {
        "day": DAY,
        "daily_active_users": 12,
        "weekly_active_users": 20,
        "monthly_active_users": 30,
        "monthly_active_chat_users": 9,
        "monthly_active_agent_users": None,
        "user_initiated_interaction_count": 100,
        "code_generation_activity_count": 400,
        "code_acceptance_activity_count": 120,
        "loc_suggested_to_add_sum": 900,
        "loc_added_sum": 300,
        "loc_suggested_to_delete_sum": 50,
        "loc_deleted_sum": 40,
        "chat_interactions": 30,  # 7 + 20 + 3 (+ null)
        "agent_interactions": 11,  # chat_panel_agent_mode 7 + agent_edit feature 4
        "acceptance_rate": 0.3,
        **dict.fromkeys(tables.SURFACE_USER_FIELDS),  # the 2026 counts: absent here, so null, never 0
    }
    # pull_requests / totals_by_cli with one field each: that field, every other one null (never 0)
    assert [{k: v for k, v in r.items() if v is not None} for r in rows.pull_requests] == [
        {"day": DAY, "total_created": 5}]
    assert [{k: v for k, v in r.items() if v is not None} for r in rows.cli] == [{"day": DAY, "session_count": 3}]
    assert (rows.pr_suggestions, rows.app, rows.third_party_agents) == ([], [], [])
    assert rows.editors == [
        {"day": DAY, "editor": "intellij", **zero_counters(code_generation_activity_count=100,
                                                             code_acceptance_activity_count=20),
         "acceptance_rate": 0.2},
        {"day": DAY, "editor": "vscode", "user_initiated_interaction_count": 60,
         "code_generation_activity_count": 300, "code_acceptance_activity_count": 100,
         "loc_suggested_to_add_sum": 700, "loc_added_sum": 250, "acceptance_rate": 1 / 3},
    ]
    assert rows.languages == [
        {"day": DAY, "language": "go", **zero_counters(), "acceptance_rate": None},
        {"day": DAY, "language": "python", **zero_counters(code_generation_activity_count=250,
                                                             code_acceptance_activity_count=70,
                                                             loc_added_sum=130),
         "acceptance_rate": 0.28},
    ]
    assert rows.models == [
        {"day": DAY, "model": "claude-sonnet-4", **zero_counters(user_initiated_interaction_count=4,
                                                                   code_generation_activity_count=100,
                                                                   code_acceptance_activity_count=20),
         "acceptance_rate": 0.2},
        {"day": DAY, "model": "gpt-4.1", **zero_counters(user_initiated_interaction_count=20,
                                                           code_generation_activity_count=300,
                                                           code_acceptance_activity_count=100),
         "acceptance_rate": 1 / 3},
    ]
    assert [(r["feature"], r["user_initiated_interaction_count"], r["acceptance_rate"]) for r in rows.features] == [
        ("agent_edit", 4, 0.2), ("chat_panel_agent_mode", 7, None), ("chat_panel_ask_mode", 20, None),
        ("code_completion", 0, 1 / 3),
    ]


def test_rows_use_exactly_the_table_columns():
    rows = parsing.parse_org_day(org_day())
    writer_adds = {"team_id", "fetched_at", "source_report", "parser_version"}
    assert set(rows.usage) == {c.name for c in tables.copilot_usage_daily.c} - writer_adds
    rich = parsing.parse_org_day({**org_day(), **SURFACES_2026})
    for name, got in rich.tables().items():
        if name == "copilot_usage_daily":
            continue
        assert got, name
        for row in got:
            assert set(row) == {c.name for c in tables.metadata.tables[name].c} - {"team_id", "parser_version"}


def test_chat_interactions_fall_back_to_chat_features():
    rec = org_day()
    for key in [k for k in rec if k.startswith("chat_panel_")]:
        del rec[key]
    rec["totals_by_feature"].append({"feature": "chat_inline", "user_initiated_interaction_count": 5})
    usage = parsing.parse_org_day(rec).usage
    assert usage["chat_interactions"] == 20 + 7 + 5
    assert usage["agent_interactions"] == 7 + 4  # agent mode from the feature row


def test_minimal_record_counters_zero_active_users_none():
    rows = parsing.parse_org_day({"day": "2026-05-07"})
    assert rows.usage["daily_active_users"] is None
    assert rows.usage["code_generation_activity_count"] == 0
    assert rows.usage["chat_interactions"] == 0 and rows.usage["agent_interactions"] == 0
    assert rows.usage["acceptance_rate"] is None
    assert (rows.languages, rows.editors, rows.models, rows.features) == ([], [], [], [])


def test_keys_truncated_defaulted_and_merged():
    long_name = "x" * 250
    rec = {"day": "2026-05-07", "totals_by_ide": [
        {"ide": long_name, "code_generation_activity_count": 1},
        {"ide": long_name + "y", "code_generation_activity_count": 2},
        {"code_generation_activity_count": 4},
        {"ide": "", "code_generation_activity_count": 8},
    ]}
    editors = parsing.parse_org_day(rec).editors
    assert [(r["editor"], r["code_generation_activity_count"]) for r in editors] == [
        ("unknown", 12), ("x" * 200, 3)]


@pytest.mark.parametrize("mutate,field", [
    (lambda r: r.pop("day"), "day"),
    (lambda r: r.update(day="2026-5-7"), "day"),
    (lambda r: r.update(day="2026-02-30"), "day"),
    (lambda r: r.update(day=20260507), "day"),
    (lambda r: r.update(code_generation_activity_count=True), "code_generation_activity_count"),
    (lambda r: r.update(code_generation_activity_count="12"), "code_generation_activity_count"),
    (lambda r: r.update(code_generation_activity_count=1.5), "code_generation_activity_count"),
    (lambda r: r.update(code_generation_activity_count=-1), "code_generation_activity_count"),
    (lambda r: r.update(loc_added_sum=2**64), "loc_added_sum"),
    (lambda r: r.update(daily_active_users=False), "daily_active_users"),
    (lambda r: r.update(chat_panel_ask_mode="3"), "chat_panel_ask_mode"),
    (lambda r: r.update(totals_by_ide={"ide": "vscode"}), "totals_by_ide"),
    (lambda r: r.update(totals_by_feature=["code_completion"]), "totals_by_feature[0]"),
    (lambda r: r["totals_by_language_feature"][1].update(code_acceptance_activity_count=[1]),
     "totals_by_language_feature[1].code_acceptance_activity_count"),
    (lambda r: r["totals_by_model_feature"][0].update(model=42), "totals_by_model_feature[0].model"),
])
def test_malformed_org_day_names_the_field(mutate, field):
    rec = org_day()
    mutate(rec)
    with pytest.raises(MalformedReport) as info:
        parsing.parse_org_day(rec)
    assert field in str(info.value)
    assert info.value.http_status is None
    assert info.value.error_kind == "malformed_report"


def test_malformed_when_not_an_object():
    with pytest.raises(MalformedReport):
        parsing.parse_org_day(["day", "2026-05-07"])  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- 28 day
def test_parse_org_28_day_splits_days():
    d1, d2, d3 = org_day("2026-05-05"), org_day("2026-05-06"), org_day("2026-05-07")
    d2["code_generation_activity_count"] = 10
    d2["code_acceptance_activity_count"] = 5
    file_obj = {"report_start_day": "2026-04-10", "report_end_day": "2026-05-07", "organization_id": "999",
                "created_at": "2026-05-08T01:00:00Z", "day_totals": [d3, d1, d2]}
    by_day = parsing.parse_org_28_day([file_obj])
    assert list(by_day) == [date(2026, 5, 5), date(2026, 5, 6), date(2026, 5, 7)]
    assert by_day[date(2026, 5, 6)].usage["acceptance_rate"] == 0.5
    assert by_day[date(2026, 5, 7)] == parsing.parse_org_day(d3)


def test_parse_org_28_day_merges_shards_and_tolerates_empty():
    shard1 = {"day_totals": [org_day("2026-05-05")]}
    shard2 = {"day_totals": [org_day("2026-05-06")]}
    assert len(parsing.parse_org_28_day([shard1, shard2])) == 2
    assert parsing.parse_org_28_day([]) == {}
    assert parsing.parse_org_28_day([{"day_totals": []}]) == {}
    assert list(parsing.parse_org_28_day([org_day("2026-05-07")])) == [DAY]  # a bare day object


@pytest.mark.parametrize("records", [
    {"day_totals": []}, [{"report_start_day": "2026-04-10"}], [{"day_totals": {"day": "2026-05-07"}}],
    [{"day_totals": [{"day": "bad"}]}], ["nope"],
])
def test_parse_org_28_day_malformed(records):
    with pytest.raises(MalformedReport):
        parsing.parse_org_28_day(records)


# ----------------------------------------------------------------------------- users ⋈ teams
def user(uid: int, login: str, day: str = "2026-05-07", **counters) -> dict:
    return {"user_id": uid, "user_login": login, "day": day, "organization_id": "999",
            "totals_by_ide": [{"ide": "vscode"}], "ai_credits_used": 1.5, **counters}


def member(uid: int, login: str, team_id: int, slug: str, day: str = "2026-05-07") -> dict:
    return {"user_id": uid, "user_login": login, "day": day, "organization_id": "999", "team_id": team_id,
            "slug": slug}


def test_join_users_teams():
    users = [
        user(1, "alice", user_initiated_interaction_count=3, code_generation_activity_count=10,
             code_acceptance_activity_count=4, loc_added_sum=20, used_chat=True, used_agent=True),
        user(2, "bob", code_generation_activity_count=5, code_acceptance_activity_count=1, used_cli=True),
        user(3, "carol"),  # active but not engaged
        user(4, "dave", code_generation_activity_count=99),
        user(5, "erin", day="2026-05-06", code_generation_activity_count=1000),  # another day: ignored
    ]
    big = [member(i, f"u{i}", 42, "frontend") for i in (1, 2, 3, 4)]
    teams = [
        *big,
        member(1, "alice", 7, "platform"),  # alice is in two teams: counted in each
        member(1, "alice", 7, "platform"),  # duplicate membership line: counted once
        member(9, "zed", 7, "platform"),  # no usage record that day: not counted
        member(2, "bob", 7, "platform", day="2026-05-06"),  # another day's membership: ignored
        member(5, "erin", 8, "ghosts", day="2026-05-06"),
    ]
    user_rows, team_rows = parsing.join_users_teams(users, teams, DAY, min_team_size=4)

    assert [r["user_id"] for r in user_rows] == [1, 2, 3, 4]
    alice = user_rows[0]
    assert alice == {
        "day": DAY, "user_id": 1, "user_login": "alice", "user_initiated_interaction_count": 3,
        "code_generation_activity_count": 10, "code_acceptance_activity_count": 4,
        "loc_suggested_to_add_sum": 0, "loc_added_sum": 20, "used_chat": True, "used_agent": True,
        "used_cli": False, "engaged": True, "github_team_count": 2,
        # the 2026 fields: credits given, the rest absent → null (never False or 0)
        "ai_credits_used": 1.5, "ai_adoption_phase": None, "ai_adoption_phase_number": None,
        **dict.fromkeys(tables.USER_SURFACE_FLAGS),
    }
    assert [(r["user_login"], r["engaged"], r["github_team_count"], r["used_cli"]) for r in user_rows] == [
        ("alice", True, 2, False), ("bob", True, 1, True), ("carol", False, 1, False), ("dave", False, 1, False)]
    assert set(alice) == {c.name for c in tables.copilot_user_daily.c} - {"team_id", "parser_version"}

    assert [r["github_team_id"] for r in team_rows] == [7, 42]
    platform, frontend = team_rows
    assert platform == {
        "day": DAY, "github_team_id": 7, "github_team_slug": "platform", "active_users": 1,
        "engaged_users": 1, "user_initiated_interaction_count": 3, "code_generation_activity_count": 10,
        "code_acceptance_activity_count": 4, "loc_suggested_to_add_sum": 0, "loc_added_sum": 20,
        "acceptance_rate": 0.4, "below_threshold": True,  # kept and flagged, never dropped
    }
    assert (frontend["active_users"], frontend["engaged_users"], frontend["below_threshold"]) == (4, 2, False)
    assert frontend["code_generation_activity_count"] == 10 + 5 + 99
    assert frontend["acceptance_rate"] == 5 / 114
    assert set(frontend) == {c.name for c in tables.copilot_github_team_daily.c} - {"team_id", "parser_version"}


def test_join_default_threshold_is_five():
    users = [user(i, f"u{i}") for i in range(1, 6)]
    _, rows = parsing.join_users_teams(users, [member(i, f"u{i}", 1, "t") for i in range(1, 6)], DAY)
    assert rows[0]["below_threshold"] is False
    _, rows = parsing.join_users_teams(users, [member(i, f"u{i}", 1, "t") for i in range(1, 5)], DAY)
    assert rows[0]["below_threshold"] is True


def test_join_duplicate_user_keeps_last_and_truncates():
    users = [user(1, "a" * 150, code_generation_activity_count=1),
             user(1, "alice", code_generation_activity_count=2)]
    user_rows, team_rows = parsing.join_users_teams(users, [member(1, "alice", 3, "s" * 300)], DAY)
    assert len(user_rows) == 1 and user_rows[0]["code_generation_activity_count"] == 2
    assert team_rows[0]["github_team_slug"] == "s" * 200
    user_rows, _ = parsing.join_users_teams(users[:1], [], DAY)
    assert user_rows[0]["user_login"] == "a" * 100


def test_join_28_day_users_one_day_at_a_time():
    users = [user(1, "alice", day=f"2026-05-0{d}", code_generation_activity_count=d) for d in (5, 6, 7)]
    for d in (5, 6, 7):
        rows, _ = parsing.join_users_teams(users, [], date(2026, 5, d))
        assert [r["code_generation_activity_count"] for r in rows] == [d]


def test_join_empty():
    assert parsing.join_users_teams([], [], DAY) == ([], [])


@pytest.mark.parametrize("users,teams", [
    ([user(1, "x", code_generation_activity_count="3")], []),
    ([user(True, "x")], []),
    ([user(1, "x", used_chat="yes")], []),
    ([{"user_id": 1, "user_login": "x", "day": "May 7"}], []),
    ([user(1, "x", used_chat="yes"), user(2, "y", user_id="2")], []),  # every record of the day is malformed
    ("not a list", []),
    ([user(1, "x")], {"not": "a list"}),
])
def test_join_malformed(users, teams):
    with pytest.raises(MalformedReport):
        parsing.join_users_teams(users, teams, DAY)


def test_join_is_lenient_one_odd_record_never_drops_the_day():
    """Every documented field is optional: a record without user_login is kept by user_id; one without
    user_id takes the id user-teams gives its login, else it is skipped and counted; one wrong-typed record
    is skipped and counted; the rest of the day stores."""
    users = [
        user(1, "alice"),
        {k: v for k, v in user(2, "bob").items() if k != "user_login"},  # no login: kept by id
        {k: v for k, v in user(3, "carol").items() if k != "user_id"},  # no id: user-teams knows carol
        {k: v for k, v in user(4, "dave").items() if k != "user_id"},  # no id, unknown login: skipped
        {k: v for k, v in user(5, "x").items() if k not in ("user_id", "user_login")},  # neither: skipped
        user(6, "erin", used_chat="yes"),  # malformed: skipped
        {k: v for k, v in user(7, "fay").items() if k != "day"},  # no day: the report's day
    ]
    teams = [member(1, "alice", 10, "t"), member(3, "carol", 10, "t"), {"user_id": 2, "day": "2026-05-07"},
             {"user_id": 7, "user_login": "fay", "day": "2026-05-07", "team_id": 11}, None]
    skipped: Counter[str] = Counter()
    rows, team_rows = parsing.join_users_teams(users, teams, DAY, skipped=skipped)
    assert [(r["user_id"], r["user_login"]) for r in rows] == [(1, "alice"), (2, None), (3, "carol"), (7, "fay")]
    assert dict(skipped) == {
        "user record without user_id (login unknown to user-teams)": 1,
        "user record without user_id or user_login": 1,
        "malformed used_chat: expected a boolean, got str": 1,
        "user-teams record without user_id or team_id": 1,
        "user-teams malformed team_records[4]: expected a JSON object, got NoneType": 1,
    }
    assert [(t["github_team_id"], t["github_team_slug"], t["active_users"]) for t in team_rows] == \
        [(10, "t", 2), (11, "team-11", 1)]


# ----------------------------------------------------------------------------- seats
BILLING = {
    "seat_breakdown": {"total": 12, "added_this_cycle": 9, "pending_invitation": 1, "pending_cancellation": 2,
                       "active_this_cycle": 8, "inactive_this_cycle": 4},
    "seat_management_setting": "assign_selected", "ide_chat": "enabled", "public_code_suggestions": "block",
    "plan_type": "business", "copilot_chat": "enabled",
}
SNAP = datetime(2026, 5, 8, 6, 0, tzinfo=UTC)


def seat(uid: int | None, login: str | None, last: str | None, plan: str | None = "business") -> dict:
    assignee = None if uid is None and login is None else {"login": login, "id": uid, "type": "User"}
    return {"created_at": "2026-01-01T00:00:00-06:00", "last_activity_at": last, "plan_type": plan,
            "assignee": assignee, "last_activity_editor": "vscode/1.77.3/copilot/1.86.82"}


def test_parse_seats():
    seats = [
        seat(1, "octocat", "2026-05-07T23:00:00-06:00"),  # = 2026-05-08T05:00Z: active
        seat(2, "hubot", None),  # never used (or idle 90+ days: GitHub clears it)
        seat(3, "mona", "2026-04-07T06:00:00Z"),  # 31 days before the snapshot: dormant
        seat(4, "lisa", "2026-04-08T00:00:00-06:00"),  # 2026-04-08T06:00Z = exactly 30 days: not dormant
        seat(5, "naive", "2026-03-01T12:00:00"),  # naive -> UTC: dormant
        seat(1, "octocat", "2026-05-07T23:00:00-06:00"),  # a repeated page row: de-duplicated
    ]
    row = parsing.parse_seats(BILLING, seats, SNAP, date(2026, 5, 7))
    assert row == {
        "day": date(2026, 5, 7), "snapshot_at": SNAP, "total_seats": 12, "active_seats": 8, "inactive_seats": 4,
        "pending_invitation": 1, "pending_cancellation": 2, "added_this_cycle": 9, "never_used": 1,
        "dormant_30d": 2, "listed_seats": 5, "plan_type": "business", "seat_management_setting": "assign_selected",
    }
    # costs are added from the configured prices by copilot_assets.derive (test_parsing_2026)
    assert set(row) == {c.name for c in tables.copilot_seat_snapshots.c} - {"team_id", "parser_version",
                                                                            *tables.SEAT_COSTS}


def test_parse_seats_snapshot_is_utc_and_plan_fallback():
    naive_snapshot = datetime(2026, 5, 8, 6, 0)
    offset_snapshot = datetime(2026, 5, 8, 0, 0, tzinfo=timezone(timedelta(hours=-6)))
    billing = {"seat_breakdown": {"total": 3}}
    seats = [seat(1, "a", None, "enterprise"), seat(2, "b", None, "business"), seat(3, "c", None, "enterprise"),
             seat(None, None, None, None)]
    for snap in (naive_snapshot, offset_snapshot):
        row = parsing.parse_seats(billing, seats, snap, DAY)
        assert row["snapshot_at"] == SNAP and row["snapshot_at"].tzinfo is not None
    assert row["plan_type"] == "enterprise"
    assert row["seat_management_setting"] is None
    assert (row["active_seats"], row["never_used"], row["listed_seats"]) == (0, 4, 4)
    assert parsing.parse_seats(billing, [], SNAP, DAY)["plan_type"] is None


def test_parse_seats_total_falls_back_to_listed_and_dedupes_by_login():
    seats = [seat(None, "Octocat", None), seat(None, "octocat", None), seat(7, "x", None)]
    row = parsing.parse_seats({"seat_breakdown": {}}, seats, SNAP, DAY)
    assert (row["total_seats"], row["listed_seats"]) == (2, 2)


@pytest.mark.parametrize("billing,seats", [
    ({}, []),  # seat_breakdown is required
    ({"seat_breakdown": []}, []),
    ({"seat_breakdown": {"total": "12"}}, []),
    ({"seat_breakdown": {"total": True}}, []),
    ({"seat_breakdown": {"total": 2**40}}, []),
    ({"seat_breakdown": {}, "plan_type": 3}, []),
    ([], []),
    ({"seat_breakdown": {}}, {"seats": []}),
    ({"seat_breakdown": {}}, ["octocat"]),
    ({"seat_breakdown": {}}, [seat(1, "a", "yesterday")]),
    ({"seat_breakdown": {}}, [seat(1, "a", 1715000000)]),  # type: ignore[arg-type]
    ({"seat_breakdown": {}}, [{"assignee": "octocat"}]),
    ({"seat_breakdown": {}}, [seat(1, "a", "0001-01-01T00:00:00+05:00")]),  # overflows on UTC conversion
])
def test_parse_seats_malformed(billing, seats):
    with pytest.raises(MalformedReport):
        parsing.parse_seats(billing, seats, SNAP, DAY)


def test_parsers_do_not_mutate_input():
    rec = org_day()
    before = copy.deepcopy(rec)
    parsing.parse_org_day(rec)
    assert rec == before


def test_day_helpers():
    assert parsing.parse_day("2026-05-07") == DAY
    assert parsing.format_day(DAY) == "2026-05-07"
    assert parsing.parse_timestamp("2021-10-14T00:53:32-06:00", "t") == datetime(2021, 10, 14, 6, 53, 32, tzinfo=UTC)
    assert parsing.parse_timestamp("2021-10-14T00:53:32Z", "t").tzinfo is UTC
    assert parsing.parse_timestamp(None, "t") is None
    with pytest.raises(MalformedReport):
        parsing.parse_day("２０２６-05-07")  # non-ASCII digits
