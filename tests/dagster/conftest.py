"""Fixtures for the Dagster tests of the Copilot ingestion assets (issue 5); the harness is in flow_support.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from flow_support import Flow, fast_tmp, flow, make_flow, pg_schema, sim  # noqa: F401  (shared fixtures)


def postgres_instance_storages(url: str) -> dict:
    """The storage entries of the repo's dagster.postgres.yaml, with ``url`` instead of DAGSTER_PG_URL."""
    cfg = yaml.safe_load((Path(__file__).resolve().parents[2] / "dagster.postgres.yaml").read_text())
    out = {}
    for key in ("run_storage", "event_log_storage", "schedule_storage"):
        entry = dict(cfg[key])
        assert entry["config"]["postgres_url"] == {"env": "DAGSTER_PG_URL"}
        entry["config"] = {**entry["config"], "postgres_url": url}
        out[key] = entry
    return out


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
