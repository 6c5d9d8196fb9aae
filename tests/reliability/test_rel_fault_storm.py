"""Faults across 50 teams in ONE range run: a 429 storm, 502s, slow answers (client timeouts), a truncated
shard, and a 429 that clears. Retries stay bounded (counted in the simulator's request log), the 46 healthy
teams are materialized, each affected team-day fails visibly in ``failed_team_days``, and nothing already
stored for the affected teams changes."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from flow_support import USAGE, expected_org_day, mats, step_failure, today
from rel_support import fast_github, team_day_rows

from resources.app_store import StoreResource
from resources.cost import CostResource
from resources.llm import AnthropicResource

MAX_ATTEMPTS = 3
FAULTS = {  # team → simulator faults on organization-1-day
    "s03": [{"mode": "429", "endpoint": "organization-1-day", "retry_after": 0}],
    "s07": [{"mode": "502", "endpoint": "organization-1-day"}],
    "s11": [{"mode": "slow", "endpoint": "organization-1-day", "delay_s": 1.0}],
    "s19": [{"mode": "truncated_shard", "endpoint": "organization-1-day"}],
    "s23": [{"mode": "429", "endpoint": "organization-1-day", "retry_after": 0, "times": 2}],  # recovers
}
FAILING = {"s03": "rate_limited", "s07": "unavailable", "s11": "unavailable", "s19": "malformed_report"}


def test_fifty_teams_with_faults_in_one_range_run(flow) -> None:
    slugs = [f"s{i:02d}" for i in range(50)]
    for s in slugs:
        flow.add_team(s, f"storm-{s}")
    end = today() - timedelta(days=2)
    start = end - timedelta(days=1)
    days = [start, end]
    flow.resources = lambda: {  # small client timeout and backoff, 3 attempts per request
        "store": StoreResource(database_url=flow.store_url),
        "github": fast_github(flow, max_attempts=MAX_ATTEMPTS, timeout_seconds=0.4, max_retry_seconds=3.0),
        "llm": AnthropicResource(),
        "cost": CostResource(),
    }

    # the affected teams already have rows for these days (a clean earlier run)
    assert flow.range_run("s03", "s23", start, end, USAGE).success
    before = {s: team_day_rows(flow.store.engine, flow.teams[s].id) for s in FAULTS}
    assert all(len(before[s]["copilot_usage_daily"]) == 2 for s in FAULTS)

    for s, faults in FAULTS.items():
        flow.set_org(s, faults=faults)
    flow.sim_state.clear_requests()
    result = flow.range_run("s00", "s49", start, end, USAGE)

    # healthy teams (and the one whose 429s cleared) are materialized with the simulator's numbers
    assert not result.success
    healthy = [s for s in slugs if s not in FAILING]
    assert set(mats(result)) == {f"{d.isoformat()}|{s}" for s in healthy for d in days}
    for s in ("s00", "s23", "s49"):
        for d in days:
            [row] = flow.rows("copilot_usage_daily", s, d)
            assert row["daily_active_users"] == expected_org_day(f"storm-{s}", d)["dau"]

    # each affected team-day fails visibly, with its typed error
    description, md = step_failure(result)
    got = sorted((r["team"], r["day"], r["error_kind"]) for r in md["failed_team_days"])
    assert got == sorted((s, d.isoformat(), kind) for s, kind in FAILING.items() for d in days), description
    assert md["failed_count"] == 8
    assert "sig=" not in description

    # nothing stored for the affected teams changed
    for s in FAULTS:
        assert team_day_rows(flow.store.engine, flow.teams[s].id) == before[s], s

    # retries are bounded: exact request counts per org (2 days each)
    log = flow.sim_state.request_log()
    env = Counter((r["org"], r["status"]) for r in log if r["endpoint_kind"] == "organization-1-day")
    dl = Counter(r["org"] for r in log if r["endpoint_kind"] == "download")
    assert env[("storm-s03", 429)] == MAX_ATTEMPTS * 2 and sum(v for (o, _), v in env.items() if o == "storm-s03") == 6
    assert env[("storm-s07", 502)] == MAX_ATTEMPTS * 2
    assert sum(v for (o, _), v in env.items() if o == "storm-s11") == MAX_ATTEMPTS * 2  # each one timed out
    # malformed data is not retried: one envelope per day, and far fewer downloads than a retried shard
    # would cost (2 days x MAX_ATTEMPTS); one extra download may come from a timeout on a loaded machine
    assert env[("storm-s19", 200)] == 2 and 2 <= dl["storm-s19"] < 2 * MAX_ATTEMPTS
    assert env[("storm-s23", 429)] == 2 and env[("storm-s23", 200)] == 2
    for s in healthy:
        if s != "s23":
            assert env[(f"storm-{s}", 200)] == 2 and dl[f"storm-{s}"] == 2, s
    assert all(dl[f"storm-{s}"] == 0 for s in ("s03", "s07", "s11"))
    per_org = Counter(r["org"] for r in log)
    assert max(per_org.values()) <= 2 * MAX_ATTEMPTS * 2  # envelope + shard, each ≤ max_attempts, 2 days
