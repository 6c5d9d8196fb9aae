"""Redirects and hosts over real HTTP: the client follows REST redirects itself and sends the token only to
the API origin (scheme, host, port of base_url). The simulator serves 127.0.0.1 and localhost (same port):
two origins, one server, one request log."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from resources.github import NotReady, Report
from resources.github_errors import InvalidRequest, TokenRevoked
from tests.github.conftest import DAY, TOKEN

pytestmark = pytest.mark.slow

PREFIX = hashlib.sha256(TOKEN.encode()).hexdigest()[:12]


def other_host(url: str) -> str:
    return url.replace("127.0.0.1", "localhost")


def netloc(url: str) -> str:
    return url.split("://", 1)[1]


def faults(state, *fs, **kw):
    state.set_org("acme", tokens=[TOKEN], seats=kw.pop("seats", 50), faults=list(fs), **kw)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_same_host_redirect_is_followed_with_the_token(sim, make_client, status):
    url, state = sim
    plain = make_client().report_day("users-1-day", DAY)
    faults(state, {"mode": "redirect", "endpoint": "users-1-day", "status": status})
    state.clear_requests()
    c = make_client()
    rep = c.report_day("users-1-day", DAY)
    assert isinstance(rep, Report) and rep.records == plain.records and rep.records
    log = state.request_log()
    assert [(r["path"], r["status"]) for r in log] == [
        ("/orgs/acme/copilot/metrics/reports/users-1-day", status),
        ("/organizations/acme/copilot/metrics/reports/users-1-day", 200),
        (log[2]["path"], 200),
    ]
    assert log[2]["endpoint_kind"] == "download"
    assert [(r["had_authorization"], r["token_sha256_prefix"]) for r in log] == [
        (True, PREFIX), (True, PREFIX), (False, None)]
    assert {r["host"] for r in log} == {netloc(url)}
    assert c.calls.rest == 2 and c.calls.retries == 0


def test_301_default_on_billing_and_28_day(sim, make_client):
    _, state = sim
    faults(state, {"mode": "redirect", "endpoint": "billing"}, {"mode": "redirect", "endpoint": "28-day"})
    c = make_client()
    assert c.billing()["seat_breakdown"]["total"] == 50
    rep = c.report_latest_28("organization-28-day")
    assert isinstance(rep, Report) and len(rep.records[0]["day_totals"]) == 28
    statuses = [(r["path"].split("/")[1], r["status"]) for r in state.request_log() if r["endpoint_kind"] != "download"]
    assert statuses == [("orgs", 301), ("organizations", 200), ("orgs", 301), ("organizations", 200)]


def test_redirect_to_a_not_ready_day_is_still_not_ready(sim, make_client):
    _, state = sim
    faults(state, {"mode": "redirect", "endpoint": "users-1-day"}, not_ready_status="404", ready_lag_days=10)
    assert make_client().report_day("users-1-day", DAY) == NotReady("users-1-day", DAY, "http_404")


def test_redirect_to_another_host_is_followed_without_the_token(sim, make_client):
    url, state = sim
    faults(state, {"mode": "redirect_other_host", "endpoint": "billing"})  # 307
    c = make_client()
    with pytest.raises(InvalidRequest) as ei:  # that host wants a token we never send it
        c.billing()
    err = ei.value
    assert not isinstance(err, TokenRevoked)
    assert err.http_status == 401 and err.error_kind == "invalid_request"
    assert netloc(other_host(url)) in str(err) and "Requires authentication" in str(err)
    assert err.endpoint == "/orgs/acme/copilot/billing"
    log = state.request_log()
    assert [(r["host"], r["path"], r["status"], r["had_authorization"], r["token_sha256_prefix"]) for r in log] == [
        (netloc(url), "/orgs/acme/copilot/billing", 307, True, PREFIX),
        (netloc(other_host(url)), "/organizations/acme/copilot/billing", 401, False, None),
    ]
    assert c.calls.retries == 0


def test_foreign_host_error_names_no_query_string(sim, make_client):
    url, state = sim
    faults(state, {"mode": "redirect_other_host", "endpoint": "users-1-day", "status": 302})
    with pytest.raises(InvalidRequest) as ei:
        make_client().report_day("users-1-day", DAY)
    text = str(ei.value) + repr(ei.value.to_metadata())
    assert netloc(other_host(url)) in text
    assert "day=" not in text and "?" not in text and TOKEN not in text
    assert [r["had_authorization"] for r in state.request_log()] == [True, False]


def test_api_on_localhost_redirected_to_127(sim, make_client):
    """The origin rule is symmetric: the API origin here is localhost, the foreign one 127.0.0.1."""
    url, state = sim
    faults(state, {"mode": "redirect_other_host", "endpoint": "seats"})
    c = make_client(base_url=other_host(url))
    with pytest.raises(InvalidRequest) as ei:
        c.seats()
    assert netloc(url) in str(ei.value)
    log = state.request_log()
    assert [(r["host"], r["had_authorization"]) for r in log] == [(netloc(other_host(url)), True), (netloc(url), False)]


def test_seats_link_next_on_another_host_gets_no_token(sim, make_client):
    url, state = sim
    faults(state, seats=250, seats_link_host="localhost")
    c = make_client()
    with pytest.raises(InvalidRequest) as ei:
        c.seats()
    assert netloc(other_host(url)) in str(ei.value) and ei.value.http_status == 401
    log = state.request_log()
    assert [(r["host"], r["path"], r["had_authorization"], r["status"]) for r in log] == [
        (netloc(url), "/orgs/acme/copilot/billing/seats", True, 200),
        (netloc(other_host(url)), "/orgs/acme/copilot/billing/seats", False, 401),
    ]


def test_seats_link_on_the_api_origin_keeps_the_token(sim, make_client):
    url, state = sim
    faults(state, seats=250, seats_link_host=netloc(url))  # explicit, same origin
    seats = make_client().seats()
    assert len(seats) == 250
    assert all(r["had_authorization"] for r in state.request_log())


def test_download_redirect_to_another_host_is_followed_without_the_token(sim, make_client):
    url, state = sim
    plain = make_client().report_day("users-1-day", DAY)
    faults(state, {"mode": "redirect_other_host", "endpoint": "download"}, shards=2)
    state.clear_requests()
    rep = make_client().report_day("users-1-day", DAY)
    assert isinstance(rep, Report) and rep.records == plain.records
    downloads = [r for r in state.request_log() if r["endpoint_kind"] == "download"]
    assert sorted((r["host"], r["status"]) for r in downloads) == sorted(
        [(netloc(url), 307), (netloc(url), 307), (netloc(other_host(url)), 200), (netloc(other_host(url)), 200)]
    )
    assert not any(r["had_authorization"] or r["token_sha256_prefix"] for r in downloads)
    assert sorted(r["path"].split("/")[1] for r in downloads) == ["_dl", "_dl", "_downloads", "_downloads"]


def test_download_same_host_redirect(sim, make_client):
    _, state = sim
    faults(state, {"mode": "redirect", "endpoint": "download", "status": 302})
    rep = make_client().report_day("organization-1-day", DAY)
    assert isinstance(rep, Report) and len(rep.records) == 1
    paths = [r["path"].split("/")[1] for r in state.request_log() if r["endpoint_kind"] == "download"]
    assert paths == ["_downloads", "_dl"]


def test_redirect_loop_stops_after_five_hops():
    """No simulator mode loops (its redirect targets are served): an httpx mock transport plays the loop."""
    from resources.github import GitHubClient

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"location": f"/orgs/o/copilot/billing?hop={len(seen)}"})

    c = GitHubClient(base_url="https://api.example.test", token=TOKEN, team="t", org="o",
                     transport=httpx.MockTransport(handler), sleep=lambda s: None)
    try:
        with pytest.raises(InvalidRequest) as ei:
            c.billing()
    finally:
        c.close()
    assert "more than 5 redirects" in str(ei.value) and "hop=" not in str(ei.value)
    assert len(seen) == 6 and all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in seen)
