"""Fixtures for the GitHub client/simulator tests: one in-process simulator per module, state reset per test."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest

from resources.github import GitHubClient
from simulators.github import SimState, create_app
from simulators.serve import start_in_thread

TODAY = "2026-11-20"
DAY = date(2026, 11, 15)
TOKEN = "gho_SimSecretToken0123456789abcdef"


@pytest.fixture(scope="session")
def _server() -> Iterator[tuple[str, SimState]]:
    app = create_app({"today": TODAY})
    handle = start_in_thread(app)
    try:
        yield handle.url, app.state.sim
    finally:
        handle.stop()


@pytest.fixture
def sim(_server: tuple[str, SimState]) -> Iterator[tuple[str, SimState]]:
    url, state = _server
    state.reset()
    state.set_org("acme", tokens=[TOKEN], seats=50)
    yield url, state
    deadline = time.monotonic() + 5  # let "slow" requests drain so they don't leak into the next test's log
    while any(state.stats()["in_flight"].values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    state.reset()


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, s: float) -> None:
        self.waits.append(s)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_client(sim: tuple[str, SimState], sleeps: Sleeps) -> Iterator[Callable[..., GitHubClient]]:
    url, _ = sim
    made: list[GitHubClient] = []

    def make(**kw: Any) -> GitHubClient:
        args: dict[str, Any] = {
            "base_url": url,
            "token": TOKEN,
            "team": "team-acme",
            "org": "acme",
            "backoff_base": 0.01,
            "max_retry_seconds": 10.0,
            "timeout_seconds": 5.0,
            "sleep": sleeps,
        }
        args.update(kw)
        c = GitHubClient(**args)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()
