"""Tenant isolation: two teams whose GitHub orgs share logins, user ids and GitHub team names (the
simulator's default) are materialized in ONE range run; every stored row of team A is A's org data only, A's
insight facts hold only A's numbers, and A's credential is only ever sent to A's org."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flow_support import (
    SEATS,
    USAGE,
    USER_USAGE,
    expected_github_teams,
    expected_org_day,
    expected_users,
    today,
    token_for,
)

from insights_assets.load import load_facts
from resources import tables
from simulators.github import token_prefix


def test_two_teams_with_overlapping_orgs_never_mix(flow) -> None:
    a = flow.add_team("t-a", "org-alpha")
    b = flow.add_team("t-b", "org-beta")
    day = today() - timedelta(days=1)
    start = day - timedelta(days=1)
    # same logins and GitHub team names in both orgs, different numbers
    ua, ub = expected_users("org-alpha", day), expected_users("org-beta", day)
    assert set(ua) & set(ub) and ua != ub
    assert set(expected_github_teams("org-alpha", day)) == set(expected_github_teams("org-beta", day))
    flow.sim_state.clear_requests()

    result = flow.range_run("t-a", "t-b", start, day, USAGE, USER_USAGE, SEATS)
    assert result.success

    for team, org in ((a, "org-alpha"), (b, "org-beta")):
        for d in (start, day):
            exp = expected_org_day(org, d)
            [usage] = flow.rows("copilot_usage_daily", team.slug, d)
            assert (usage["daily_active_users"], usage["code_generation_activity_count"],
                    usage["loc_added_sum"]) == (exp["dau"], exp["gen"], exp["loc_added"])
            assert flow.raw_report(team.slug, d, "organization-1-day") == [exp["raw"]]
            assert {r["editor"] for r in flow.rows("copilot_editor_daily", team.slug, d)} == exp["editors"]
            users = {r["user_login"]: (r["user_id"], r["code_generation_activity_count"])
                     for r in flow.rows("copilot_user_daily", team.slug, d)}
            assert users == {k: (v["user_id"], v["gen"]) for k, v in expected_users(org, d).items()}
            gteams = {r["github_team_slug"]: (r["github_team_id"], r["active_users"])
                      for r in flow.rows("copilot_github_team_daily", team.slug, d)}
            assert gteams == {k: (v["team_id"], v["active_users"])
                              for k, v in expected_github_teams(org, d).items()}

    # no row of any team-day table belongs to anyone else
    with flow.store.engine.connect() as conn:
        for name, t in tables.TEAM_DAY_TABLES.items():
            ids = set(conn.execute(sa.select(t.c.team_id).distinct()).scalars())
            assert ids <= {a.id, b.id}, name

    # insight facts of A: A's numbers only
    with flow.store.engine.connect() as conn:
        fa, fb = load_facts(conn, a.id, day), load_facts(conn, b.id, day)
    for facts, org in ((fa, "org-alpha"), (fb, "org-beta")):
        assert facts.numbers["code_generations"] == sum(expected_org_day(org, d)["gen"] for d in (start, day))
        assert facts.numbers["code_acceptances"] == sum(expected_org_day(org, d)["acc"] for d in (start, day))
    assert fa.numbers["code_generations"] != fb.numbers["code_generations"]

    # each credential went to its own org only; download links never carry a credential
    log = flow.sim_state.request_log()
    assert {r["org"] for r in log} == {"org-alpha", "org-beta"}
    for org, slug in (("org-alpha", "t-a"), ("org-beta", "t-b")):
        rest = [r for r in log if r["org"] == org and r["endpoint_kind"] != "download"]
        assert rest and {r["token_sha256_prefix"] for r in rest} == {token_prefix(token_for(slug))}
        assert all(r["path"].startswith(f"/orgs/{org}/") for r in rest)
        downloads = [r for r in log if r["org"] == org and r["endpoint_kind"] == "download"]
        assert downloads and not any(r["had_authorization"] or r["token_sha256_prefix"] for r in downloads)
