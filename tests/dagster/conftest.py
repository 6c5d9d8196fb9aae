"""Fixtures for the Dagster tests of the Copilot ingestion assets (issue 5); the harness is in flow_support.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flow_support import Flow, fast_tmp, flow, make_flow, pg_schema, sim  # noqa: F401  (shared fixtures)


@pytest.fixture
def pg_flow(tmp_path, sim, pg_available: str) -> Iterator[tuple[Flow, str, str]]:
    """Dagster instance storage AND app store on PostgreSQL, each in its own fresh schema (xdist-safe)."""
    from resources.config import normalize_database_url

    base = normalize_database_url(pg_available)
    with pg_schema(base) as (instance_url, instance_schema), pg_schema(base) as (store_url, _):
        overrides = {"storage": {"postgres": {"postgres_url": instance_url}}}
        with make_flow(tmp_path, sim, store_url, overrides) as f:
            yield f, instance_schema, base
