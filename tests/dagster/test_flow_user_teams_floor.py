"""copilot_user_usage does not ask for user-teams-1-day before GitHub offers it (2026-05-14, docs/architecture.md §6):
those days store per-user rows only and keep GitHub team rows already stored; the floor is resource config.

The days are explicit (2026-05-12..16); the simulator org gets an explicit history_start so they stay
served whatever today is."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flow_support import USER_USAGE, expected_github_teams, expected_users, mats

from resources.github import GitHubResource

FLOOR = date(2026, 5, 14)
START, END = date(2026, 5, 12), date(2026, 5, 16)
DAYS = [START + timedelta(days=k) for k in range((END - START).days + 1)]
PRE = [d for d in DAYS if d < FLOOR]

# a GitHub team row (and its raw membership record) stored earlier for a pre-floor day, e.g. by a probe
KEPT_TEAM = {"github_team_id": 777001, "github_team_slug": "probed-team", "active_users": 6, "engaged_users": 4,
             "user_initiated_interaction_count": 11, "code_generation_activity_count": 20,
             "code_acceptance_activity_count": 9, "loc_suggested_to_add_sum": 40, "loc_added_sum": 30,
             "acceptance_rate": 0.45, "below_threshold": False}
KEPT_RAW = [{"day": "2026-05-13", "user_id": 100001, "team_id": 777001, "slug": "probed-team"}]


def user_teams_requests(flow, slug: str) -> list[dict[str, Any]]:
    return [r for r in flow.requests(slug) if r["endpoint_kind"] == "user-teams-1-day"]


def test_range_over_the_user_teams_floor_skips_user_teams_before_it_and_keeps_stored_team_rows(flow) -> None:
    team = flow.add_team("acme", "acme-org", history_start="2026-05-01")
    kept_day = date(2026, 5, 13)
    flow.store.replace_team_day(team.id, kept_day, {"copilot_github_team_daily": [KEPT_TEAM]},
                                raw_reports={"user-teams-1-day": KEPT_RAW})
    flow.sim_state.clear_requests()

    result = flow.range_run("acme", "acme", START, END, USER_USAGE)
    assert result.success
    md = mats(result, USER_USAGE)
    assert set(md) == {f"{d.isoformat()}|acme" for d in DAYS}

    # user-teams asked for the three days on/after the floor only (all answered), never for 05-12 / 05-13
    asked = user_teams_requests(flow, "acme")
    assert len(asked) == 3 and {r["status"] for r in asked} == {200}
    calls = {d: md[f"{d.isoformat()}|acme"]["github_calls"] for d in DAYS}
    assert calls == {d: 2 if d < FLOOR else 4 for d in DAYS}  # users REST + download (+ user-teams ones)
    assert len(flow.requests("acme")) == sum(calls.values()) == 16

    for d in DAYS:
        # per-user rows for every day, equal to the simulator's users-1-day
        users = {r["user_login"]: (r["user_id"], r["code_generation_activity_count"], r["github_team_count"])
                 for r in flow.rows("copilot_user_daily", "acme", d)}
        exp = expected_users("acme-org", d)
        assert users and {k: v[:2] for k, v in users.items()} == {k: (u["user_id"], u["gen"]) for k, u in exp.items()}
        assert flow.raw_report("acme", d, "users-1-day") != []
        m = md[f"{d.isoformat()}|acme"]
        assert m["users"] == len(exp)
        if d < FLOOR:
            assert m["github_teams"] == 0
            assert "github_teams_below_threshold" not in m
            assert "not offered by GitHub before 2026-05-14" in m["github_teams_note"]
            assert "GitHubResource.user_teams_available_from" in m["github_teams_note"]
            assert {v[2] for v in users.values()} == {0}
        else:
            gteams = {r["github_team_slug"]: (r["github_team_id"], r["active_users"],
                                              r["code_generation_activity_count"])
                      for r in flow.rows("copilot_github_team_daily", "acme", d)}
            assert gteams and gteams == {s: (t["team_id"], t["active_users"], t["gen"])
                                         for s, t in expected_github_teams("acme-org", d).items()}
            assert m["github_teams"] == len(gteams) and "github_teams_note" not in m
            assert len(flow.raw_report("acme", d, "user-teams-1-day")) > 0
            assert max(v[2] for v in users.values()) >= 1

    # the GitHub team row stored earlier for a pre-floor day survives, so does its raw user-teams report;
    # the other pre-floor day gets neither
    [kept] = flow.rows("copilot_github_team_daily", "acme", kept_day)
    assert {k: kept[k] for k in KEPT_TEAM} == KEPT_TEAM
    assert flow.raw_report("acme", kept_day, "user-teams-1-day") == KEPT_RAW
    assert flow.count("copilot_github_team_daily", "acme", date(2026, 5, 12)) == 0

    # logged once for the team, not once per skipped day
    notes = [m for m in flow.logs(result) if "per-user rows only" in m]
    assert len(notes) == 1 and "acme: 2 day(s) of this run are before 2026-05-14" in notes[0]


def test_user_teams_floor_is_resource_config(flow, monkeypatch) -> None:
    flow.add_team("acme", "acme-org", history_start="2026-05-01", user_teams_start="2026-05-13")
    res = flow.resources()
    res["github"] = GitHubResource(base_url=flow.sim_url, max_attempts=2, backoff_base=0.01,
                                   max_retry_seconds=2.0, timeout_seconds=10.0,
                                   user_teams_available_from="2026-05-13")
    monkeypatch.setattr(flow, "resources", lambda: res)
    flow.sim_state.clear_requests()

    result = flow.range_run("acme", "acme", START, END, USER_USAGE)
    assert result.success
    md = mats(result, USER_USAGE)
    assert len(user_teams_requests(flow, "acme")) == 4  # 05-13..05-16; 05-12 is before the configured floor
    assert md["2026-05-12|acme"]["github_teams"] == 0
    assert "before 2026-05-13" in md["2026-05-12|acme"]["github_teams_note"]
    assert md["2026-05-13|acme"]["github_teams"] == len(expected_github_teams("acme-org", date(2026, 5, 13))) > 0
    assert flow.count("copilot_github_team_daily", "acme", date(2026, 5, 13)) > 0
