"""Fixtures for the Dagster tests of the Copilot ingestion assets (issue 5); the harness is in flow_support.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flow_support import (  # noqa: F401  (shared fixtures)
    Flow,
    fast_tmp,
    flow,
    make_flow,
    pg_schema,
    postgres_instance_storages,
    sim,
)


@pytest.fixture
def pg_flow(tmp_path, sim, pg_available: str) -> Iterator[tuple[Flow, str, str]]:
    """Dagster instance storage AND app store on PostgreSQL, each in its own fresh schema (xdist-safe).

    The instance storages are the repo's own dagster.postgres.yaml, with this test's URL."""
    from resources.settings import normalize_database_url

    base = normalize_database_url(pg_available)
    with pg_schema(base) as (instance_url, instance_schema), pg_schema(base) as (store_url, _):
        overrides = postgres_instance_storages(instance_url)
        with make_flow(tmp_path, sim, store_url, overrides) as f:
            yield f, instance_schema, base
