"""Range runs (one run, many team-days): 30-day backfill, the 28-day report's call budget, the asset checks, and
a revoked token among three teams."""

from __future__ import annotations

from datetime import timedelta

from flow_support import (
    SEATS,
    USAGE,
    USER_USAGE,
    checks,
    day_keys,
    expected_org_day,
    failed_partitions,
    mats,
    step_failure,
    today,
    token_for,
)

from copilot_assets.assets import SEAT_HISTORY_NOTE


def test_backfill_30_days_for_one_team_in_one_range_run(flow) -> None:
    flow.add_team("acme", "acme-org")
    end = today() - timedelta(days=1)
    start = end - timedelta(days=29)
    keys = day_keys("acme", start, end)
    assert len(keys) == 30

    result = flow.range_run("acme", "acme", start, end, USAGE, USER_USAGE, SEATS)
    assert result.success
    assert len(flow.instance.get_runs()) == 1  # ONE run carried all 30 team-days

    # 30 usage rows, one per day, each equal to the simulator's day
    usage = flow.rows("copilot_usage_daily", "acme")
    assert len(usage) == 30 and {f"{r['day'].isoformat()}|acme" for r in usage} == keys
    for row in usage:
        exp = expected_org_day("acme-org", row["day"])
        assert (row["daily_active_users"], row["code_acceptance_activity_count"]) == (exp["dau"], exp["acc"])
    # the last 28 complete days come from the 28-day report, the two older ones from 1-day reports
    sources = {r["day"]: r["source_report"] for r in usage}
    assert sorted(sources.values()).count("organization-28-day") == 28
    assert {d for d, s in sources.items() if s == "organization-1-day"} == {start, start + timedelta(days=1)}

    # 30 materializations of copilot_usage (and of copilot_user_usage) recorded by the instance
    assert set(mats(result)) == keys and flow.materialized(USAGE) == keys
    recs = flow.instance.fetch_materializations(USAGE, limit=100).records
    assert len(recs) == 30
    assert flow.materialized(USER_USAGE) == keys
    assert flow.count("copilot_user_daily", "acme") == sum(
        expected_org_day("acme-org", start + timedelta(days=k))["dau"] for k in range(30))

    # seats: only yesterday (today is not in the range); every other day skipped with the reason logged
    assert flow.materialized(SEATS) == {f"{end.isoformat()}|acme"}
    assert [r["day"] for r in flow.rows("copilot_seat_snapshots", "acme")] == [end]
    # one summary line for the step (each log line is an event-log write: not one per team-day)
    skipped = [m for m in flow.logs(result) if SEAT_HISTORY_NOTE in m]
    assert skipped == [f"copilot_seats: 29 team-day(s) not materialized: past date. {SEAT_HISTORY_NOTE}"]
    progress = [m for m in flow.logs(result) if m.startswith("copilot_usage: ") and "team-day(s) done" in m]
    assert progress and all("ok," in m and "GitHub calls" in m for m in progress)
    assert failed_partitions(flow, SEATS) == set()


def test_28_day_backfill_uses_at_most_10_github_calls_and_checks_report_full_coverage(flow) -> None:
    flow.add_team("acme", "acme-org")
    end = today() - timedelta(days=1)
    start = end - timedelta(days=27)
    flow.sim_state.clear_requests()

    result = flow.range_run("acme", "acme", start, end, USAGE)
    assert result.success
    md = mats(result)
    assert set(md) == day_keys("acme", start, end)
    assert {m["source_report"] for m in md.values()} == {"organization-28-day"}

    calls = flow.requests("acme")  # REST and signed downloads of this org, as the simulator saw them
    assert len(calls) <= 10
    assert len(calls) == sum(m["github_calls"] for m in md.values()) == 2
    assert sorted(r["endpoint_kind"] for r in calls) == ["download", "organization-28-day"]
    for row in flow.rows("copilot_usage_daily", "acme"):
        exp = expected_org_day("acme-org", row["day"])
        assert (row["daily_active_users"], row["code_generation_activity_count"], row["acceptance_rate"]) == (
            exp["dau"], exp["gen"], exp["rate"])

    ev = checks(result)
    assert set(ev) == {"fresh_last_3_days", "coverage_28d"}
    assert ev["fresh_last_3_days"].passed is True
    assert ev["fresh_last_3_days"].metadata["latest_acme"].value == end.isoformat()
    assert ev["coverage_28d"].passed is True
    assert ev["coverage_28d"].metadata["coverage_acme"].value == "25/25"  # D-28..D-4; D-3..D-1 still settle
    assert ev["coverage_28d"].metadata["teams_with_gaps"].value == 0


def test_revoked_token_fails_exactly_that_teams_days_and_stops_calling_github(flow) -> None:
    for slug in ("t-a", "t-b", "t-c"):
        flow.add_team(slug, f"{slug}-org")
    flow.set_org("t-b", tokens=["gho_someone_elses_token_0123456789"])  # t-b's stored token → 401
    end = today() - timedelta(days=38)  # older than the 28-day report: one 1-day report per team-day
    start = end - timedelta(days=2)
    flow.sim_state.clear_requests()

    result = flow.range_run("t-a", "t-c", start, end, USAGE)
    assert not result.success
    good = day_keys("t-a", start, end) | day_keys("t-c", start, end)
    revoked = day_keys("t-b", start, end)

    # the other teams' team-days are materialized; exactly the revoked team's are failed
    assert set(mats(result)) == good
    assert flow.materialized(USAGE) == good
    assert failed_partitions(flow, USAGE) == revoked
    description, md = step_failure(result)
    failed = md["failed_team_days"]
    assert {f"{f['day']}|{f['team']}" for f in failed} == revoked
    assert {(f["error_kind"], f["http_status"]) for f in failed} == {("token_revoked", 401)}
    assert md["teams"] == "t-b" and md["error_kind"] == "token_revoked" and md["http_status"] == 401
    assert "3 of 9 team-day(s) failed" in description
    assert token_for("t-b") not in description and token_for("t-b") not in str(md)

    # one 401, then no more calls for that team; the others were served normally
    b_calls = flow.requests("t-b")
    assert [(r["endpoint_kind"], r["status"]) for r in b_calls] == [("organization-1-day", 401)]
    for slug in ("t-a", "t-c"):
        assert len(flow.rows("copilot_usage_daily", slug)) == 3
        assert len(flow.requests(slug)) == 6  # envelope + download per day
    assert flow.count("copilot_usage_daily", "t-b") == 0

    # the log says it once per failed attempt and once for the days skipped after it, not per day
    lines = [m for m in flow.logs(result) if "t-b" in m]
    assert sum("FAILED" in m for m in lines) == 1
    assert [m for m in lines if "not attempted" in m] == [
        "copilot_usage t-b: 2 later team-day(s) not attempted after token_revoked"]
