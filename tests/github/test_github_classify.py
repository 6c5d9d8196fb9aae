"""Pure unit tests: error classification, shard parsing, Link parsing, backoff — no servers."""

from __future__ import annotations

import random
from datetime import date

import pytest
from pydantic import ValidationError

from resources.github import (
    USER_TEAMS_AVAILABLE_FROM,
    GitHubClient,
    GitHubResource,
    NotReady,
    _parse_link_next,
    backoff_wait,
    classify_error,
    default_base_url,
    parse_shard,
    parse_user_teams_floor,
)
from resources.github.reports import split_lines
from resources.github_errors import (
    ACCESS_DENIED_REASONS,
    CopilotAccessDenied,
    GitHubUnavailable,
    InvalidRequest,
    MalformedReport,
    NotFound,
    RateLimited,
    TokenRevoked,
)


def body(msg: str, status: int) -> dict:
    return {"message": msg, "documentation_url": "https://docs.github.com/rest", "status": str(status)}


@pytest.mark.parametrize(
    ("status", "msg", "headers", "cls"),
    [
        (401, "Bad credentials", {}, TokenRevoked),
        (404, "Not Found", {}, NotFound),
        (400, "Bad request", {}, InvalidRequest),
        (422, "There is a problem with your account's associated payment method", {}, InvalidRequest),
        (429, "API rate limit exceeded", {"retry-after": "3"}, RateLimited),
        (500, "Server Error", {}, GitHubUnavailable),
        (502, "Bad Gateway", {}, GitHubUnavailable),
        (503, "Unavailable", {}, GitHubUnavailable),
        (403, "You have exceeded a secondary rate limit.", {}, RateLimited),
        (403, "API rate limit exceeded for user ID 1.", {"x-ratelimit-remaining": "0"}, RateLimited),
        (403, "Forbidden", {"Retry-After": "60"}, RateLimited),
    ],
)
def test_classify_status(status, msg, headers, cls):
    err = classify_error(status, body(msg, status), headers, team="t", endpoint="/orgs/a/copilot/billing")
    assert type(err) is cls
    assert err.http_status == status
    assert err.team == "t"
    assert err.endpoint == "/orgs/a/copilot/billing"
    assert err.retryable == (cls in (RateLimited, GitHubUnavailable))


@pytest.mark.parametrize(
    ("msg", "headers", "reason"),
    [
        ("The 'Copilot usage metrics' policy must be enabled to use this API", {}, "policy_disabled"),
        ("Copilot Business is not enabled for this organization.", {}, "no_subscription"),
        ("This organization has no Copilot Business subscription.", {}, "no_subscription"),
        # GitHub documents no seat-count rule: a message about licenses is not a typed cause
        ("This organization does not have enough Copilot licenses (seats).", {}, "unknown"),
        (
            "Insufficient permissions. This action requires admin, or relevant organization role access.",
            {},
            "insufficient_permissions",
        ),
        ("Resource not accessible by personal access token", {}, "missing_scope"),
        ("Resource not accessible by integration", {}, "app_permission_missing"),
        ("Resource not accessible by integration",
         {"X-Accepted-GitHub-Permissions": "organization_copilot_metrics=read"}, "app_permission_missing"),
        ("Forbidden", {"X-Accepted-GitHub-Permissions": "organization_copilot_metrics=read"}, "missing_scope"),
        ("Resource protected by organization SAML enforcement.", {}, "sso_required"),
        ("Forbidden", {"X-GitHub-SSO": "required; url=https://github.com/orgs/x/sso"}, "sso_required"),
        (
            "Although you appear to have the correct authorization credentials, the `acme` organization has "
            "enabled OAuth App access restrictions",
            {},
            "oauth_restricted",
        ),
        ("Something else", {}, "unknown"),
    ],
)
def test_classify_403_reasons(msg, headers, reason):
    err = classify_error(403, body(msg, 403), headers)
    assert isinstance(err, CopilotAccessDenied)
    assert err.reason == reason
    assert err.to_metadata()["reason"] == reason


def test_access_denied_reasons_are_github_causes():
    assert ACCESS_DENIED_REASONS == (
        "policy_disabled", "no_subscription", "insufficient_permissions", "missing_scope", "sso_required",
        "oauth_restricted", "app_permission_missing", "unknown",
    )
    assert CopilotAccessDenied("x", reason="insufficient_licenses").reason == "unknown"  # not a GitHub cause


@pytest.mark.parametrize(
    ("status", "msg", "cls", "reason"),
    [
        (404, "Copilot Business is not enabled for this organization.", CopilotAccessDenied, "no_subscription"),
        (404, "Copilot Enterprise is not enabled for this organization.", CopilotAccessDenied, "no_subscription"),
        (404, "Not Found", NotFound, None),
        (422, "Copilot Usage Metrics API setting is disabled at the organization or enterprise level.",
         CopilotAccessDenied, "policy_disabled"),
        (422, "There is a problem with your account's associated payment method", InvalidRequest, None),
        (422, 'Invalid request.\n\n"day" is a required query parameter.', InvalidRequest, None),
    ],
)
def test_classify_typed_causes_from_the_body(status, msg, cls, reason):
    err = classify_error(status, body(msg, status), {}, team="t", endpoint="/orgs/a/copilot/billing")
    assert type(err) is cls and err.http_status == status
    assert getattr(err, "reason", None) == reason
    assert err.to_metadata().get("reason") == reason
    assert classify_error(status, None, {}).__class__ in (NotFound, InvalidRequest)  # no body: no typed cause


@pytest.mark.parametrize("status", [403, 429])
def test_classify_secondary_rate_limit(status):
    msg = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
    err = classify_error(status, body(msg, status), {})
    assert isinstance(err, RateLimited) and err.secondary and err.retry_after is None
    assert err.to_metadata()["secondary_rate_limit"] is True
    err = classify_error(status, body(msg, status), {"retry-after": "30"})
    assert err.secondary and err.retry_after == 30.0 and err.retry_after_source == "retry-after"
    primary = classify_error(403, body("API rate limit exceeded for user ID 1.", 403), {"x-ratelimit-remaining": "0"})
    assert isinstance(primary, RateLimited) and not primary.secondary
    assert "secondary_rate_limit" not in primary.to_metadata()


def test_not_ready_is_falsy_and_typed():
    nr = NotReady("users-1-day", date(2026, 11, 15), "http_404")
    assert not nr and nr.why == "http_404"
    with pytest.raises(ValueError):
        NotReady("users-1-day", None, "timeout")
    with pytest.raises(AttributeError):
        nr.why = "http_204"  # frozen


def test_classify_without_body_and_reset_header():
    err = classify_error(403, None, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1100"}, now=1000.0)
    assert isinstance(err, RateLimited)
    assert err.retry_after == pytest.approx(100.0)
    err = classify_error(429, None, {"retry-after": "7"})
    assert err.retry_after == 7.0
    assert isinstance(classify_error(418, None, {}), InvalidRequest)


def test_classify_message_scrubbed():
    err = classify_error(403, body("see https://x/y?sig=abc&se=1 token ghp_abcdefghijklmnopqrstuvwx", 403), {})
    assert "sig=" not in str(err)
    assert "ghp_abcdefghijklmnop" not in str(err)


def test_backoff_full_jitter_and_retry_after():
    rng = random.Random(1)
    err = GitHubUnavailable("x")
    for attempt in range(1, 6):
        w = backoff_wait(err, attempt, 0.5, rng)
        assert 0 <= w <= 0.5 * 2 ** (attempt - 1)
    assert backoff_wait(RateLimited("x", retry_after=4), 1, 0.5, rng) == 4


def test_parse_link_next():
    link = (
        '<https://api.github.com/organizations/9/copilot/billing/seats?page=2>; rel="next", '
        '<https://api.github.com/organizations/9/copilot/billing/seats?page=5>; rel="last"'
    )
    assert _parse_link_next(link) == "https://api.github.com/organizations/9/copilot/billing/seats?page=2"
    assert _parse_link_next('<https://x/?page=1>; rel="prev"') is None
    assert _parse_link_next(None) is None


def test_parse_shard_shapes():
    nd = ['{"a": 1, "zz_new": true}', "", "  ", '{"a": 2}']
    assert parse_shard(nd, report="users-1-day", shard=0) == [{"a": 1, "zz_new": True}, {"a": 2}]
    assert parse_shard(['[{"a": 1}, {"a": 2}]'], report="r", shard=0) == [{"a": 1}, {"a": 2}]
    pretty = ["{", '  "day_totals": [', '    {"day": "2026-11-01"}', "  ]", "}"]
    assert parse_shard(pretty, report="organization-28-day", shard=0) == [{"day_totals": [{"day": "2026-11-01"}]}]
    assert parse_shard([], report="r", shard=0) == []


@pytest.mark.parametrize(
    ("lines", "lineno"),
    [
        (['{"a": 1}', "garbage", '{"a": 2}'], 2),
        (['{"a": 1}', '{"a": 2, "b'], 2),
        (['{"a": 1}', "42"], 2),
        (['{"a": 1}', '"No report available"'], 2),
        (['{"a": 1', ""], 1),
        (["[1, 2]"], 1),
    ],
)
def test_parse_shard_errors_name_shard_and_line(lines, lineno):
    with pytest.raises(MalformedReport) as ei:
        parse_shard(lines, report="users-1-day", shard=3, team="t", endpoint="/orgs/a/x")
    msg = str(ei.value)
    assert "users-1-day" in msg and "shard 3" in msg and f"line {lineno}" in msg
    assert ei.value.team == "t"


def test_client_repr_hides_token():
    c = GitHubClient(base_url="http://127.0.0.1:1", token="gho_SUPERSECRET", team="t", org="o")
    try:
        assert "gho_SUPERSECRET" not in repr(c)
        assert "gho_SUPERSECRET" not in str(c)
        assert "gho_SUPERSECRET" not in repr(vars(c).get("calls"))
    finally:
        c.close()


def test_resource_builds_client(monkeypatch):
    monkeypatch.delenv("COPILOT_FLOW_GITHUB_API_URL", raising=False)
    assert default_base_url() == "https://api.github.com"
    monkeypatch.setenv("COPILOT_FLOW_GITHUB_API_URL", "http://127.0.0.1:9999")
    assert default_base_url() == "http://127.0.0.1:9999"
    res = GitHubResource(base_url="http://127.0.0.1:9999", max_attempts=2, max_concurrency_per_org=3)
    with res.client(team="t", org="o", token="x") as c:
        assert c.max_attempts == 2
        assert c.max_concurrency == 3
        assert c.base_url == "http://127.0.0.1:9999"


def test_user_teams_floor_config_parsed_and_passed_to_the_client():
    with GitHubResource(base_url="http://127.0.0.1:9999").client(team="t", org="o", token="x") as c:
        assert c.user_teams_available_from == USER_TEAMS_AVAILABLE_FROM == date(2026, 5, 14)
    res = GitHubResource(base_url="http://127.0.0.1:9999", user_teams_available_from=" 2026-03-01 ")
    with res.client(team="t", org="o", token="x") as c:
        assert c.user_teams_available_from == date(2026, 3, 1)
    with GitHubResource(user_teams_available_from="").client(team="t", org="o", token="x") as c:
        assert c.user_teams_available_from is None  # empty = no floor, always ask GitHub


@pytest.mark.parametrize("bad", ["2026-5-14", "14.05.2026", "2026-02-30", "soon", "2026-05-14T00:00"])
def test_user_teams_floor_config_rejects_a_bad_date_naming_the_field(bad):
    with pytest.raises(ValidationError) as exc:
        GitHubResource(user_teams_available_from=bad)
    msg = str(exc.value)
    assert "GitHubResource.user_teams_available_from must be a YYYY-MM-DD date" in msg
    assert repr(bad) in msg
    with pytest.raises(ValueError, match="user_teams_available_from must be a YYYY-MM-DD date"):
        parse_user_teams_floor(bad)


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 10_000])
def test_split_lines_at_any_chunk_boundary(size):
    """Lines come out whole whatever the network chunks: cut mid-line, mid-character (é, ✓ are multi-byte),
    CRLF endings (the \\r goes with the line and is stripped by the parser), no final newline."""
    body = ('{"login":"é✓","s":"a\u2028b"}\r\n\n{"n":2}\n' + '{"long":"' + "x" * 300 + '"}').encode()
    got = list(split_lines(_chunks(body, size)))
    assert got == ['{"login":"é✓","s":"a\u2028b"}\r', "", '{"n":2}', '{"long":"' + "x" * 300 + '"}']
    assert [r["login"] for r in parse_shard(got, report="users-1-day", shard=0) if "login" in r] == ["é✓"]
    assert parse_shard(got, report="users-1-day", shard=0)[0]["s"] == "a\u2028b"  # U+2028 does not cut a record


def test_split_lines_edges():
    assert list(split_lines([])) == []
    assert list(split_lines([b"", b"a", b"", b"b\n", b""])) == ["ab"]
    assert list(split_lines([b"\n\n"])) == ["", ""]
    assert list(split_lines([b"\xff{}\n"])) == ["\ufffd{}"]  # invalid UTF-8 replaced, as httpx decoded it
    one_line = [b"[" + b'{"a":1},' * 2000, b'{"a":2}]']  # a one-line JSON array across chunks
    assert [len(r) for r in parse_shard(split_lines(one_line), report="users-1-day", shard=0)] == [1] * 2001
