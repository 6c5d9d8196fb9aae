"""Fixtures for the automation tests (issues 6 and 7); the harness itself is in automation_support.py.

The assets' step ``RetryPolicy`` waits 30 s ± 30 s before its one retry, which would make every
transient-failure run take up to a minute: ``calculate_delay`` is patched to 0 here. The retry still
happens (the second attempt hits the same simulator fault); only the wait is gone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import dagster as dg
import pytest
from automation_support import Harness, Sim, build_defs
from dagster._core.definitions.policy import RetryPolicy

from resources.app_store import store_for
from simulators.github import SimState, create_app
from simulators.serve import start_in_thread


@pytest.fixture(autouse=True)
def _no_step_retry_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RetryPolicy, "calculate_delay", lambda self, attempt_num: 0.0)


@pytest.fixture(scope="session")
def _github_server() -> Iterator[tuple[str, SimState]]:
    app = create_app({})
    handle = start_in_thread(app)
    try:
        yield handle.url, app.state.sim
    finally:
        handle.stop()


@pytest.fixture
def sim(_github_server: tuple[str, SimState]) -> Iterator[Sim]:
    url, state = _github_server
    state.reset()
    yield Sim(url, state)
    deadline = time.monotonic() + 5
    while any(state.stats()["in_flight"].values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    state.reset()


@pytest.fixture
def h(tmp_path, sim: Sim) -> Iterator[Harness]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = store_for(url)
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        yield Harness(sim=sim, store=store, instance=instance, defs=build_defs(url, sim.url))
    store.engine.dispose()
