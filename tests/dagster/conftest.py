"""Fixtures for the Dagster tests of the Copilot ingestion assets (issue 5); the harness is in flow_support.py."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flow_support import Flow, make_flow, pg_schema

from simulators.github import SimState


@pytest.fixture
def sim(_github_server: tuple[str, SimState]) -> Iterator[tuple[str, SimState]]:
    url, state = _github_server
    state.reset()
    yield url, state
    deadline = time.monotonic() + 5
    while any(state.stats()["in_flight"].values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    state.reset()


@pytest.fixture
def fast_tmp(tmp_path) -> Iterator[Path]:
    """A temp dir on tmpfs when the machine has one: the SQLite instance commits every event (fsync)."""
    if not Path("/dev/shm").is_dir():
        yield tmp_path
        return
    path = Path(tempfile.mkdtemp(prefix="copilot-dagster-", dir="/dev/shm"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def flow(fast_tmp, sim) -> Iterator[Flow]:
    with make_flow(fast_tmp, sim, f"sqlite:///{fast_tmp / 'store.db'}") as f:
        yield f


@pytest.fixture
def pg_flow(tmp_path, sim, pg_available: str) -> Iterator[tuple[Flow, str, str]]:
    """Dagster instance storage AND app store on PostgreSQL, each in its own fresh schema (xdist-safe)."""
    from resources.config import normalize_database_url

    base = normalize_database_url(pg_available)
    with pg_schema(base) as (instance_url, instance_schema), pg_schema(base) as (store_url, _):
        overrides = {"storage": {"postgres": {"postgres_url": instance_url}}}
        with make_flow(tmp_path, sim, store_url, overrides) as f:
            yield f, instance_schema, base
