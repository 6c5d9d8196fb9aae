"""GitHubClient against the in-process simulator over real HTTP (127.0.0.1)."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest

from resources.github import NotReady, Report
from resources.github_errors import (
    CopilotAccessDenied,
    DownloadLinkExpired,
    GitHubError,
    GitHubUnavailable,
    InvalidRequest,
    MalformedReport,
    NotFound,
    RateLimited,
    TokenRevoked,
)
from simulators import github_data as data
from tests.github.conftest import DAY, TOKEN

pytestmark = pytest.mark.slow


def assert_secret_free(err: GitHubError) -> None:
    for text in (str(err), repr(err), repr(err.to_metadata()), str(err.args)):
        assert TOKEN not in text
        assert "sig=" not in text
        assert "?" not in (err.endpoint or "")
    assert err.team == "team-acme"
    assert err.endpoint and err.endpoint.startswith("/orgs/acme/")


def fault(state, **f):
    state.set_org("acme", tokens=[TOKEN], seats=50, faults=[f])


# ---------------------------------------------------------------- happy paths


def test_org_1_day(make_client):
    c = make_client()
    rep = c.report_day("organization-1-day", DAY)
    assert isinstance(rep, Report)
    assert rep.day == DAY and rep.shards == 1 and len(rep.records) == 1
    rec = rep.records[0]
    assert rec["day"] == DAY.isoformat()
    assert isinstance(rec["organization_id"], str)
    assert "etl_id" in rec  # unknown keys kept
    assert c.calls.rest == 1 and c.calls.downloads == 1 and c.calls.total == 2


def test_users_and_user_teams_consistent_with_aggregate(make_client):
    c = make_client()
    users = c.report_day("users-1-day", DAY).records
    org = c.report_day("organization-1-day", DAY).records[0]
    assert org["daily_active_users"] == len({u["user_id"] for u in users}) > 0
    for k in ("code_generation_activity_count", "loc_added_sum", "user_initiated_interaction_count"):
        assert org[k] == sum(u[k] for u in users)
    teams = c.report_day("user-teams-1-day", DAY).records
    slugs = {t["slug"] for t in teams}
    assert {"frontend", "backend", "platform", "data", "mobile"} <= slugs
    assert "tiny" not in slugs  # < 5 seated members
    assert all(isinstance(t["team_id"], int) for t in teams)


def test_28_day_reports(make_client):
    c = make_client()
    org = c.report_latest_28("organization-28-day")
    assert org.start_day and org.end_day and (org.end_day - org.start_day).days == 27
    assert len(org.records) == 1 and len(org.records[0]["day_totals"]) == 28
    users = c.report_latest_28("users-28-day")
    assert {r["day"] for r in users.records} <= {t["day"] for t in org.records[0]["day_totals"]}
    assert all(r["report_start_day"] == org.start_day.isoformat() for r in users.records)


def test_bad_report_name_rejected(make_client):
    c = make_client()
    with pytest.raises(ValueError):
        c.report_day("organization-28-day", DAY)
    with pytest.raises(ValueError):
        c.report_latest_28("users-1-day")


def test_billing_and_seats_pagination(sim, make_client):
    _, state = sim
    state.set_org("acme", tokens=[TOKEN], seats=250)
    c = make_client()
    b = c.billing()
    assert b["seat_breakdown"]["total"] == 250
    seats = c.seats()
    assert len(seats) == 250
    assert len({s["assignee"]["login"] for s in seats}) == 250
    assert c.calls.rest == 1 + 3  # billing + 3 pages of 100
    assert any(s["last_activity_at"] is None for s in seats)
    active = b["seat_breakdown"]["active_this_cycle"]
    assert 0 < active < 250


def test_multi_shard_merge_equals_single(sim, make_client):
    _, state = sim
    c = make_client()
    one = c.report_day("users-1-day", DAY)
    teams_one = c.report_day("user-teams-1-day", DAY)
    state.set_org("acme", tokens=[TOKEN], seats=50, shards=3)
    three = c.report_day("users-1-day", DAY)
    teams_three = c.report_day("user-teams-1-day", DAY)
    assert three.shards == 3 and one.shards == 1
    assert three.records == one.records
    assert teams_three.records == teams_one.records


def test_downloads_never_carry_authorization(sim, make_client):
    _, state = sim
    state.set_org("acme", tokens=[TOKEN], seats=50, shards=2)
    c = make_client()
    c.report_day("users-1-day", DAY)
    c.report_latest_28("organization-28-day")
    log = state.request_log()
    downloads = [r for r in log if r["endpoint_kind"] == "download"]
    rest = [r for r in log if r["endpoint_kind"] != "download"]
    assert len(downloads) == 3
    assert all(not r["had_authorization"] and r["token_sha256_prefix"] is None for r in downloads)
    prefix = hashlib.sha256(TOKEN.encode()).hexdigest()[:12]
    assert all(r["had_authorization"] and r["token_sha256_prefix"] == prefix for r in rest)
    assert TOKEN not in repr(log)


@pytest.mark.parametrize(("status", "why"), [("204", "http_204"), ("404", "http_404")])
def test_before_history_and_not_ready_are_not_ready(sim, make_client, status, why):
    _, state = sim
    state.set_org(
        "acme", tokens=[TOKEN], seats=50, history_start="2026-11-01", ready_lag_days=2, not_ready_status=status
    )
    c = make_client()
    assert c.report_day("organization-1-day", date(2026, 10, 31)) == NotReady(
        "organization-1-day", date(2026, 10, 31), why
    )
    got = c.report_day("users-1-day", date(2026, 11, 19))  # newer than today − 2
    assert isinstance(got, NotReady) and got.why == why and not got
    assert isinstance(c.report_day("users-1-day", date(2026, 11, 18)), Report)
    assert c.calls.retries == 0  # never an error, never retried


def test_not_ready_days_answer_204_and_404_in_ordinary_data(sim, make_client):
    _, state = sim
    state.set_org("acme", tokens=[TOKEN], seats=50, history_start="2026-11-01")  # not_ready_status "mixed"
    c = make_client()
    days = [date(2026, 10, 20) + timedelta(days=k) for k in range(12)]  # all before the history floor
    got = {d: c.report_day("users-1-day", d) for d in days}
    assert all(isinstance(r, NotReady) for r in got.values())
    expected = {d: f"http_{data.not_ready_status('acme', 'users-1-day', d)}" for d in days}
    assert {d: r.why for d, r in got.items()} == expected
    assert set(expected.values()) == {"http_204", "http_404"}
    statuses = {r["status"] for r in state.request_log()}
    assert statuses == {204, 404}


@pytest.mark.parametrize(
    ("mode", "why"), [("no_content", "http_204"), ("string_body", "no_report_available"), ("empty_body", "empty_body")]
)
def test_no_report_quirks_are_not_ready(sim, make_client, mode, why):
    fault(sim[1], mode=mode, endpoint="organization-1-day")
    got = make_client().report_day("organization-1-day", DAY)
    assert got == NotReady("organization-1-day", DAY, why)
    assert not got


def test_404_for_a_day_is_not_ready(sim, make_client, sleeps):
    fault(sim[1], mode="404", endpoint="users-1-day")
    c = make_client()
    assert c.report_day("users-1-day", DAY) == NotReady("users-1-day", DAY, "http_404")
    assert c.calls.rest == 1 and sleeps.waits == []


def test_fault_days_filter(sim, make_client):
    fault(sim[1], mode="no_content", endpoint="users-1-day", days=["2026-11-14"])
    c = make_client()
    assert isinstance(c.report_day("users-1-day", date(2026, 11, 14)), NotReady)
    assert isinstance(c.report_day("users-1-day", DAY), Report)


# ---------------------------------------------------------------- typed errors


@pytest.mark.parametrize(
    ("mode", "cls", "reason"),
    [
        ("401", TokenRevoked, None),
        ("403_policy", CopilotAccessDenied, "policy_disabled"),
        ("403_permissions", CopilotAccessDenied, "insufficient_permissions"),
        ("422_policy", CopilotAccessDenied, "policy_disabled"),
        ("422", InvalidRequest, None),
    ],
)
def test_fault_modes_not_retried(sim, make_client, sleeps, mode, cls, reason):
    fault(sim[1], mode=mode, endpoint="any")
    c = make_client()
    with pytest.raises(cls) as ei:
        c.report_day("users-1-day", DAY)
    err = ei.value
    assert type(err) is cls
    assert err.attempts == 1 and c.calls.rest == 1 and c.calls.retries == 0 and sleeps.waits == []
    if reason:
        assert err.reason == reason
        assert err.to_metadata()["reason"] == reason
    assert err.endpoint == "/orgs/acme/copilot/metrics/reports/users-1-day"
    assert_secret_free(err)


def test_bad_token_is_token_revoked(sim, make_client):
    c = make_client(token="gho_RevokedTokenValue000")
    with pytest.raises(TokenRevoked) as ei:
        c.billing()
    assert ei.value.http_status == 401
    assert "gho_RevokedTokenValue000" not in str(ei.value) + repr(ei.value) + repr(ei.value.to_metadata())


def test_404_on_28_day_report_stays_not_found(sim, make_client):
    fault(sim[1], mode="404", endpoint="organization-28-day")
    with pytest.raises(NotFound) as ei:
        make_client().report_latest_28("organization-28-day")
    assert ei.value.endpoint == "/orgs/acme/copilot/metrics/reports/organization-28-day/latest"


def test_unknown_org_is_not_found(make_client):
    with pytest.raises(NotFound) as ei:
        make_client(org="nope").billing()
    assert ei.value.endpoint == "/orgs/nope/copilot/billing"


@pytest.mark.parametrize("mode", ["500", "502", "503"])
def test_5xx_retried_then_succeeds(sim, make_client, sleeps, mode):
    fault(sim[1], mode=mode, endpoint="organization-1-day", times=2)
    c = make_client()
    rep = c.report_day("organization-1-day", DAY)
    assert isinstance(rep, Report)
    assert c.calls.retries == 2 and c.calls.rest == 3 and len(sleeps.waits) == 2
    assert all(0 <= w <= 0.01 * 2**i for i, w in enumerate(sleeps.waits))


def test_5xx_persistent_gives_unavailable(sim, make_client):
    fault(sim[1], mode="500", endpoint="billing")
    c = make_client(max_attempts=3)
    with pytest.raises(GitHubUnavailable) as ei:
        c.billing()
    assert ei.value.attempts == 3 and ei.value.http_status == 500 and c.calls.rest == 3
    assert_secret_free(ei.value)


def test_404_not_retried(sim, make_client):
    fault(sim[1], mode="404", endpoint="billing")
    c = make_client()
    with pytest.raises(NotFound):
        c.billing()
    assert c.calls.rest == 1 and c.calls.retries == 0


def test_429_storm_bounded_by_rate_limit_attempts(sim, make_client, sleeps):
    fault(sim[1], mode="429", endpoint="users-1-day", retry_after=2)
    # max_attempts / max_retry_seconds bound transient errors only; rate limits have their own cap
    c = make_client(max_attempts=2, max_retry_seconds=1, rate_limit_max_attempts=4)
    with pytest.raises(RateLimited) as ei:
        c.report_day("users-1-day", DAY)
    err = ei.value
    assert err.attempts == 4 and c.calls.rest == 4 and c.calls.retries == 3
    assert sleeps.waits == [2.0, 2.0, 2.0]  # retry-after honoured
    assert err.http_status == 429 and err.retry_after == 2.0 and not err.secondary
    assert c.rate_limit_waited == 6.0
    assert_secret_free(err)


def test_429_storm_bounded_by_rate_limit_budget(sim, make_client, sleeps):
    fault(sim[1], mode="429", endpoint="any", retry_after=4)
    c = make_client(rate_limit_budget_seconds=9)
    with pytest.raises(RateLimited) as ei:
        c.seats()
    assert sleeps.waits == [4.0, 4.0]  # a third wait would go past the 9 s budget: not taken
    assert ei.value.attempts == 3 and c.calls.rest == 3
    assert str(ei.value).startswith("HTTP 429: rate limit: would wait 4 s, past the rate-limit budget (9 s, 8 s used)")


def test_secondary_limit_with_retry_after_honours_it(sim, make_client, sleeps):
    fault(sim[1], mode="secondary_limit", endpoint="seats", times=1, retry_after=7)
    lines: list[str] = []
    c = make_client(log=lines.append)
    assert len(c.seats()) == 50
    assert sleeps.waits == [7.0] and c.calls.retries == 1
    assert lines == [
        "team-acme: GitHub secondary rate limit on /orgs/acme/copilot/billing/seats (HTTP 403, retry-after 7 s): "
        "waiting 7 s before attempt 2 (budget left 293 s)"
    ]


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_limit_classified_rate_limited(sim, make_client, sleeps, status):
    fault(sim[1], mode="secondary_limit", endpoint="seats", status=status)
    with pytest.raises(RateLimited) as ei:
        make_client(rate_limit_max_attempts=1).seats()
    err = ei.value
    assert err.http_status == status and err.secondary and err.retry_after is None
    assert err.to_metadata()["secondary_rate_limit"] is True
    assert err.to_metadata()["error_kind"] == "rate_limited" and err.retryable
    assert sleeps.waits == []
    assert_secret_free(err)


def test_timeout_is_unavailable(sim, make_client):
    fault(sim[1], mode="slow", endpoint="billing", delay_s=1.5)
    c = make_client(timeout_seconds=0.3, max_attempts=2)
    with pytest.raises(GitHubUnavailable) as ei:
        c.billing()
    assert ei.value.attempts == 2 and ei.value.http_status is None
    assert_secret_free(ei.value)


def test_malformed_envelope_json(sim, make_client):
    fault(sim[1], mode="malformed_json", endpoint="organization-1-day")
    with pytest.raises(MalformedReport) as ei:
        make_client().report_day("organization-1-day", DAY)
    assert "organization-1-day" in str(ei.value)
    assert_secret_free(ei.value)


@pytest.mark.parametrize("mode", ["malformed_ndjson", "truncated_shard"])
@pytest.mark.parametrize("shards", [1, 3])
def test_malformed_shards(sim, make_client, mode, shards):
    sim[1].set_org("acme", tokens=[TOKEN], seats=50, shards=shards, faults=[{"mode": mode, "endpoint": "users"}])
    with pytest.raises(MalformedReport) as ei:
        make_client().report_day("users-1-day", DAY)
    msg = str(ei.value)
    assert "users-1-day" in msg and f"shard {shards - 1}" in msg and "line " in msg
    assert_secret_free(ei.value)


def test_truncated_28_day_file(sim, make_client):
    fault(sim[1], mode="truncated_shard", endpoint="organization-28-day")
    with pytest.raises(MalformedReport) as ei:
        make_client().report_latest_28("organization-28-day")
    assert_secret_free(ei.value)


def test_expired_link_refetches_envelope_once(sim, make_client):
    _, state = sim
    fault(state, mode="expired_link", endpoint="users-1-day", times=1)
    c = make_client()
    rep = c.report_day("users-1-day", DAY)
    assert rep is not None and rep.records
    kinds = [r["endpoint_kind"] for r in state.request_log()]
    assert kinds == ["users-1-day", "download", "users-1-day", "download"]
    assert c.calls.rest == 2 and c.calls.downloads == 2


def test_expired_link_persistent(sim, make_client):
    fault(sim[1], mode="expired_link", endpoint="users-1-day")
    c = make_client()
    with pytest.raises(DownloadLinkExpired) as ei:
        c.report_day("users-1-day", DAY)
    assert c.calls.rest == 2  # envelope fetched exactly twice
    assert ei.value.http_status == 403
    assert_secret_free(ei.value)


def test_download_5xx_retried(sim, make_client, sleeps):
    fault(sim[1], mode="503", endpoint="download", times=1)
    c = make_client()
    rep = c.report_day("organization-1-day", DAY)
    assert rep is not None and c.calls.downloads == 2 and c.calls.retries == 1


def test_concurrency_cap_across_threads(sim, make_client):
    from concurrent.futures import ThreadPoolExecutor

    _, state = sim
    state.set_org("acme", tokens=[TOKEN], seats=50, shards=6, latency_ms=80)
    c = make_client(max_concurrency=2)
    with ThreadPoolExecutor(4) as pool:
        reps = list(pool.map(lambda r: c.report_day(r, DAY), ["users-1-day", "user-teams-1-day"] * 2))
    assert all(r is not None and r.shards == 6 for r in reps)
    assert 1 <= state.stats()["peak_in_flight"]["acme"] <= 2
