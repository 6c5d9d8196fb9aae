"""Rate limits over real HTTP against the simulator, on a fake clock (nothing sleeps for real).

Reference §4.4: honour retry-after; if x-ratelimit-remaining is 0 wait for the reset; otherwise wait at least
a minute, then back off exponentially with a cap. One client's waits are bounded by its budget."""

from __future__ import annotations

import random

import pytest

from resources.github import (
    RATE_LIMIT_CAP_SECONDS,
    GitHubResource,
    rate_limit_wait,
)
from resources.github_errors import GitHubUnavailable, RateLimited
from tests.github.conftest import TOKEN

pytestmark = pytest.mark.slow

SEATS = "/orgs/acme/copilot/billing/seats"


class FakeClock:
    """clock() and sleep() of one client: sleeping only moves the clock."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def faults(state, *fs):
    state.set_org("acme", tokens=[TOKEN], seats=50, faults=list(fs))


def test_secondary_limit_without_retry_after_waits_a_minute_then_backs_off_to_the_cap(sim, make_client, clock):
    faults(sim[1], {"mode": "secondary_limit", "endpoint": "seats"})  # 403, no retry-after, forever
    lines: list[str] = []
    c = make_client(sleep=clock.sleep, clock=clock, rng=random.Random(7), log=lines.append,
                    rate_limit_budget_seconds=100_000, rate_limit_max_attempts=8)
    with pytest.raises(RateLimited) as ei:
        c.seats()
    err = ei.value
    assert err.secondary and err.http_status == 403 and err.retry_after is None
    assert err.attempts == 8 and c.calls.rest == 8  # the rate-limit attempt cap (default: max_attempts)
    waits = clock.waits
    assert len(waits) == 7
    assert min(waits) >= 60  # never retried within seconds
    for n, w in enumerate(waits, 1):
        base = min(RATE_LIMIT_CAP_SECONDS, 60 * 2 ** (n - 1))
        assert base <= w <= min(RATE_LIMIT_CAP_SECONDS, base * 1.25)
    assert waits[:4] == sorted(waits[:4]) and waits[3] > 4 * waits[0]  # grows exponentially
    assert waits[4:] == [RATE_LIMIT_CAP_SECONDS] * 3  # then capped
    assert clock.now == pytest.approx(1000.0 + sum(waits))
    assert c.rate_limit_waited == pytest.approx(sum(waits))
    # one line per wait, through the injected log
    assert len(lines) == 7
    used = 0.0
    for n, (line, w) in enumerate(zip(lines, waits, strict=True), 2):
        used += w
        assert line == (
            f"team-acme: GitHub secondary rate limit on {SEATS} (HTTP 403, no retry-after): waiting {w:.0f} s "
            f"before attempt {n} (budget left {100_000 - used:.0f} s)"
        )
        assert "?" not in line and TOKEN not in line


def test_secondary_limit_cap_is_configurable_and_never_below_a_minute(sim, make_client, clock):
    faults(sim[1], {"mode": "secondary_limit", "endpoint": "seats", "status": 429})
    c = make_client(sleep=clock.sleep, clock=clock, rng=random.Random(1), rate_limit_cap_seconds=150,
                    rate_limit_max_attempts=5, rate_limit_budget_seconds=10_000)
    with pytest.raises(RateLimited) as ei:
        c.seats()
    assert ei.value.http_status == 429 and ei.value.secondary
    assert len(clock.waits) == 4
    assert 60 <= clock.waits[0] < 75 and 120 <= clock.waits[1] <= 150
    assert clock.waits[2:] == [150.0, 150.0]


def test_budget_turns_the_next_wait_into_a_rate_limited_error_without_sleeping(sim, make_client, clock):
    faults(sim[1], {"mode": "secondary_limit", "endpoint": "seats"})
    lines: list[str] = []
    c = make_client(sleep=clock.sleep, clock=clock, rng=random.Random(3), log=lines.append)  # budget 300 s
    with pytest.raises(RateLimited) as ei:
        c.seats()
    err = ei.value
    # 60–75 s, then 120–150 s; the third wait (240–300 s) would go past the 300 s budget: not slept
    assert len(clock.waits) == 2 and 60 <= clock.waits[0] < 75 and 120 <= clock.waits[1] < 150
    assert c.calls.rest == 3 and err.attempts == 3
    used = sum(clock.waits)
    assert err.retry_after is not None and 240 <= err.retry_after < 300
    assert err.message.startswith(
        f"secondary rate limit: would wait {err.retry_after:.0f} s, past the rate-limit budget (300 s, "
        f"{used:.0f} s used)"
    )
    md = err.to_metadata()
    assert md["error_kind"] == "rate_limited" and md["secondary_rate_limit"] is True and md["http_status"] == 403
    assert err.retryable and err.endpoint == SEATS and err.team == "team-acme"
    assert len(lines) == 2


def test_budget_below_a_minute_fails_at_once(sim, make_client, clock):
    faults(sim[1], {"mode": "secondary_limit", "endpoint": "billing"})
    c = make_client(sleep=clock.sleep, clock=clock, rate_limit_budget_seconds=30)
    with pytest.raises(RateLimited) as ei:
        c.billing()
    assert clock.waits == [] and c.calls.rest == 1 and c.calls.retries == 0
    assert "past the rate-limit budget (30 s, 0 s used)" in str(ei.value)


def test_budget_is_shared_by_every_request_of_one_client(sim, make_client, clock):
    faults(sim[1], {"mode": "secondary_limit", "endpoint": "billing", "times": 1},
           {"mode": "secondary_limit", "endpoint": "seats", "times": 1})
    c = make_client(sleep=clock.sleep, clock=clock, rng=random.Random(5), rate_limit_budget_seconds=100)
    assert c.billing()["seat_breakdown"]["total"] == 50  # one wait of 60–75 s
    assert len(clock.waits) == 1
    with pytest.raises(RateLimited) as ei:  # another 60+ s would pass 100 s in all
        c.seats()
    assert len(clock.waits) == 1
    assert f"({100} s, {clock.waits[0]:.0f} s used)" in str(ei.value)
    # a new client (the next team or step) has its own budget
    c2 = make_client(sleep=clock.sleep, clock=clock, rate_limit_budget_seconds=100)
    assert len(c2.seats()) == 50


def test_primary_limit_honours_retry_after_and_logs_it(sim, make_client, clock):
    faults(sim[1], {"mode": "429", "endpoint": "billing", "times": 2, "retry_after": 42})
    lines: list[str] = []
    c = make_client(sleep=clock.sleep, clock=clock, log=lines.append)
    assert c.billing()["seat_breakdown"]["total"] == 50
    assert clock.waits == [42.0, 42.0]
    assert lines[1] == (
        "team-acme: GitHub rate limit on /orgs/acme/copilot/billing (HTTP 429, retry-after 42 s): waiting 42 s "
        "before attempt 3 (budget left 216 s)"
    )


def test_rate_limit_waits_do_not_count_against_the_transient_bound(sim, make_client, clock):
    # one 60+ s secondary wait, then two 502s: max_retry_seconds (10 s) still allows the transient retries
    faults(sim[1], {"mode": "secondary_limit", "endpoint": "billing", "times": 1},
           {"mode": "502", "endpoint": "billing", "times": 2})
    c = make_client(sleep=clock.sleep, clock=clock, max_attempts=4)
    assert c.billing()["seat_breakdown"]["total"] == 50
    assert len(clock.waits) == 3 and clock.waits[0] >= 60 and all(w <= 1 for w in clock.waits[1:])


def test_transient_errors_keep_max_attempts(sim, make_client, clock):
    faults(sim[1], {"mode": "503", "endpoint": "billing"})
    c = make_client(sleep=clock.sleep, clock=clock, max_attempts=3)
    with pytest.raises(GitHubUnavailable) as ei:
        c.billing()
    assert ei.value.attempts == 3 and c.rate_limit_waited == 0


def test_rate_limit_wait_rules():
    rng = random.Random(0)
    assert rate_limit_wait(RateLimited("x", retry_after=3), 1, rng) == 3.0  # retry-after as given
    assert rate_limit_wait(RateLimited("x", retry_after=0), 4, rng) == 0.0
    for n in range(1, 12):
        w = rate_limit_wait(RateLimited("x", secondary=True), n, rng)
        assert 60 <= w <= RATE_LIMIT_CAP_SECONDS
    assert rate_limit_wait(RateLimited("x"), 1, rng, cap=10) == 60.0  # a cap below a minute: a minute


def test_resource_passes_budget_and_log():
    lines: list[str] = []
    res = GitHubResource(base_url="http://127.0.0.1:9", rate_limit_budget_seconds=42.0)
    with res.client(team="t", org="o", token="x", log=lines.append) as c:
        assert c.rate_limit_budget_seconds == 42.0
        c._log("hello")
    assert lines == ["hello"]
    with GitHubResource(base_url="http://127.0.0.1:9").client(team="t", org="o", token="x") as c:
        assert c.rate_limit_budget_seconds == 300.0
