"""Shared fixtures and helpers of tests/reliability and tests/security.

Everything is real: the GitHub simulator served over HTTP (uvicorn thread), a Dagster instance per test,
the app store on SQLite (a file) or PostgreSQL (a fresh schema), the definitions' own assets.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flow_support import Flow, fast_tmp, flow, make_flow, sim  # noqa: F401  (shared fixtures)

from resources import tables
from resources.github import GitHubResource


@pytest.fixture(params=["sqlite", "postgres"])
def flow_any(request, fast_tmp, sim) -> Iterator[Flow]:
    """App store on SQLite, then on PostgreSQL (a fresh schema); the Dagster instance on SQLite."""
    url = f"sqlite:///{fast_tmp / 'store.db'}" if request.param == "sqlite" else \
        request.getfixturevalue("pg_schema_url")
    with make_flow(fast_tmp, sim, url) as f:
        yield f


def fast_github(flow: Flow, **kw: Any) -> GitHubResource:
    cfg = {"base_url": flow.sim_url, "max_attempts": 3, "backoff_base": 0.01, "max_retry_seconds": 5.0,
           "timeout_seconds": 5.0}
    cfg.update(kw)
    return GitHubResource(**cfg)


def all_rows(engine: sa.Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every app-store table (ordered by primary key), volatile times dropped."""
    out = {}
    with engine.connect() as conn:
        for name, t in tables.metadata.tables.items():
            pk = list(t.primary_key.columns) or list(t.columns)
            out[name] = [dict(r._mapping) for r in conn.execute(sa.select(t).order_by(*pk))]
    return out


def team_day_rows(engine: sa.Engine, team_id: int, day: Any = None,
                  names: tuple[str, ...] | None = None) -> dict[str, list[dict[str, Any]]]:
    """All team-day tables (and the raw reports) of one team (one day), without fetch times."""
    out = {}
    with engine.connect() as conn:
        for name in names or (*tables.TEAM_DAY_TABLES, "copilot_raw_reports"):
            t = tables.metadata.tables[name]
            q = sa.select(t).where(t.c.team_id == team_id)
            if day is not None:
                q = q.where(t.c.day == day)
            pk = list(t.primary_key.columns)
            out[name] = [{k: v for k, v in r._mapping.items() if k not in ("fetched_at", "created_at", "id")}
                         for r in conn.execute(q.order_by(*pk))]
    return out


def sends_team_day_delete(statement: str) -> bool:
    """Whether SQL as sent to the database (a cursor event's statement) deletes team-day rows: a DELETE of a
    team-day table (SQLite) or the one statement string of locks and DELETEs (PostgreSQL,
    ``team_days.pg_lock_and_delete``)."""
    return any(f"DELETE FROM {t} " in statement for t in tables.TEAM_DAY_TABLES)
