"""Fixtures for the automation tests (issues 6 and 7); the harness itself is in automation_support.py.

The GitHub simulator and the zero step-retry wait come from tests/conftest.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import dagster as dg
import pytest
from automation_support import Harness, Sim, build_defs

from resources.app_store import store_for
from simulators.github import SimState


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
