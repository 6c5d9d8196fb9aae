"""One team-day through the real assets: exact rows, metadata, raw report, idempotent re-runs, tenant isolation."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
from flow_support import (
    BREAKDOWNS,
    SEATS,
    USAGE,
    USER_USAGE,
    checks,
    expected_github_teams,
    expected_org_day,
    expected_users,
    mats,
    today,
)


def test_one_team_day_writes_the_simulators_numbers(flow) -> None:
    flow.add_team("acme", "acme-org")
    day = today() - timedelta(days=1)
    key = f"{day.isoformat()}|acme"
    exp = expected_org_day("acme-org", day)
    flow.sim_state.clear_requests()

    result = flow.team_day("acme", day, USAGE, USER_USAGE, SEATS)
    assert result.success

    # copilot_usage_daily: exactly one row, the organization-1-day numbers
    [usage] = flow.rows("copilot_usage_daily", "acme", day)
    assert usage["daily_active_users"] == exp["dau"] > 0
    assert usage["code_generation_activity_count"] == exp["gen"]
    assert usage["code_acceptance_activity_count"] == exp["acc"]
    assert usage["loc_added_sum"] == exp["loc_added"]
    assert usage["acceptance_rate"] == exp["rate"]
    assert usage["source_report"] == "organization-1-day"
    # breakdowns: one row per language / IDE / model / feature the simulator reported that day
    assert {r["language"] for r in flow.rows("copilot_language_daily", "acme", day)} == exp["languages"]
    assert {r["editor"] for r in flow.rows("copilot_editor_daily", "acme", day)} == exp["editors"]
    assert {r["model"] for r in flow.rows("copilot_model_daily", "acme", day)} == exp["models"]
    assert {r["feature"] for r in flow.rows("copilot_feature_daily", "acme", day)} == exp["features"]
    langs = flow.rows("copilot_language_daily", "acme", day)
    assert sum(r["code_generation_activity_count"] for r in langs) == exp["gen"]
    n_breakdown = sum(len(exp[k]) for k in ("languages", "editors", "models", "features"))
    assert sum(flow.count(t, "acme", day) for t in BREAKDOWNS) == n_breakdown

    # per-user and per-GitHub-team rows
    users = expected_users("acme-org", day)
    stored_users = {r["user_login"]: r for r in flow.rows("copilot_user_daily", "acme", day)}
    assert set(stored_users) == set(users) and len(users) == exp["dau"]
    for login, u in users.items():
        assert stored_users[login]["user_id"] == u["user_id"]
        assert stored_users[login]["code_generation_activity_count"] == u["gen"]
        assert stored_users[login]["loc_added_sum"] == u["loc_added"]
    gteams = expected_github_teams("acme-org", day)
    stored_teams = {r["github_team_slug"]: r for r in flow.rows("copilot_github_team_daily", "acme", day)}
    assert set(stored_teams) == set(gteams) and "tiny" not in stored_teams
    for slug, t in gteams.items():
        assert stored_teams[slug]["github_team_id"] == t["team_id"]
        assert stored_teams[slug]["active_users"] == t["active_users"]
        assert stored_teams[slug]["code_generation_activity_count"] == t["gen"]

    # seats: yesterday is the latest complete day, so a snapshot is taken
    [seat] = flow.rows("copilot_seat_snapshots", "acme", day)
    assert seat["total_seats"] == 50 and seat["listed_seats"] == 50

    # materialization metadata
    md = mats(result)[key]
    assert sum(md["rows_by_table"][t] for t in ("copilot_usage_daily", *BREAKDOWNS)) == 1 + n_breakdown
    assert md["rows_written"] == sum(md["rows_by_table"].values())  # + the 2026 tables (test_flow_2026_fields)
    assert md["active_users"] == exp["dau"]
    assert md["acceptance_rate"] == round(exp["rate"], 4)  # shown rounded; stored exact (above)
    assert md["no_report"] is False
    assert md["github_calls"] == 2  # one envelope + one signed download
    assert md["rows_by_table"]["copilot_usage_daily"] == 1
    umd = mats(result, USER_USAGE)[key]
    assert umd["users"] == len(users) and umd["github_teams"] == len(gteams)
    assert umd["rows_written"] == len(users) + len(gteams)
    # the simulator saw exactly that: 1 organization-1-day envelope for this org
    reqs = flow.requests("acme")
    assert sum(1 for r in reqs if r["endpoint_kind"] == "organization-1-day") == 1
    assert all(not r["had_authorization"] for r in reqs if r["endpoint_kind"] == "download")
    assert flow.materialized(USAGE) == {key}

    # the raw report is kept as GitHub sent it, unknown fields included
    [raw] = flow.raw_report("acme", day, "organization-1-day")
    assert raw["etl_id"] == exp["raw"]["etl_id"] and raw["etl_id"].startswith("sim-")
    assert raw["day_partition"] == day.isoformat()
    assert raw == exp["raw"]

    # checks ran with the asset: fresh (yesterday has data), but 0 of the older 25 days: a warning
    ev = checks(result)
    assert ev["fresh_last_3_days"].passed
    assert ev["coverage_28d"].passed is False
    assert ev["coverage_28d"].metadata["coverage_acme"].value == "0/25"
    assert ev["coverage_28d"].severity == dg.AssetCheckSeverity.WARN


def test_rematerializing_a_team_day_replaces_it_without_duplicates(flow) -> None:
    flow.add_team("acme", "acme-org")
    day = today() - timedelta(days=3)
    first = flow.team_day("acme", day, USAGE, USER_USAGE)
    assert first.success
    before = flow.snapshot("acme", day)
    counts_before = {t: len(rows) for t, rows in before.items()}
    assert counts_before["copilot_usage_daily"] == 1 and counts_before["copilot_user_daily"] > 0

    second = flow.team_day("acme", day, USAGE, USER_USAGE)
    assert second.success
    after = flow.snapshot("acme", day)
    assert {t: len(rows) for t, rows in after.items()} == counts_before
    assert after == before
    assert mats(second)[f"{day.isoformat()}|acme"]["rows_written"] == mats(first)[f"{day.isoformat()}|acme"][
        "rows_written"]
    ev = checks(second)
    assert ev["users_match_active_users"].passed  # the re-run's users agree with its active users
    # the instance holds two materializations of the same partition, one per run
    recs = flow.instance.fetch_materializations(USAGE, limit=10).records
    assert [r.event_log_entry.asset_materialization.partition for r in recs] == [f"{day.isoformat()}|acme"] * 2


def test_two_teams_with_shared_logins_and_github_team_names_stay_separate(flow) -> None:
    flow.add_team("alpha", "alpha-org")
    flow.add_team("beta", "beta-org")
    day = today() - timedelta(days=2)
    result = flow.range_run("alpha", "beta", day, day, USAGE, USER_USAGE)
    assert result.success
    assert flow.materialized(USAGE) == {f"{day.isoformat()}|alpha", f"{day.isoformat()}|beta"}

    per_team = {}
    for slug, org in (("alpha", "alpha-org"), ("beta", "beta-org")):
        exp = expected_org_day(org, day)
        [usage] = flow.rows("copilot_usage_daily", slug, day)
        assert (usage["daily_active_users"], usage["code_generation_activity_count"]) == (exp["dau"], exp["gen"])
        users = {r["user_login"]: r["code_generation_activity_count"]
                 for r in flow.rows("copilot_user_daily", slug, day)}
        assert users == {login: u["gen"] for login, u in expected_users(org, day).items()}
        gteams = {r["github_team_slug"]: (r["github_team_id"], r["code_generation_activity_count"])
                  for r in flow.rows("copilot_github_team_daily", slug, day)}
        assert gteams == {s: (t["team_id"], t["gen"]) for s, t in expected_github_teams(org, day).items()}
        assert flow.raw_report(slug, day, "organization-1-day")[0]["organization_id"] == exp["raw"][
            "organization_id"]
        per_team[slug] = (usage, users, gteams)

    (ua, users_a, teams_a), (ub, users_b, teams_b) = per_team["alpha"], per_team["beta"]
    # same logins and GitHub team names on both sides, different numbers: nothing leaked across tenants
    shared_logins = set(users_a) & set(users_b)
    assert shared_logins and set(teams_a) == set(teams_b)
    assert ua["code_generation_activity_count"] != ub["code_generation_activity_count"]
    assert any(users_a[u] != users_b[u] for u in shared_logins)
    assert all(teams_a[s][0] != teams_b[s][0] for s in teams_a)  # GitHub team ids differ per org
    assert not {(s, v[1]) for s, v in teams_a.items()} & {(s, v[1]) for s, v in teams_b.items()}
