"""Dagster instance storage for PostgreSQL that keeps its connections (dagster.postgres.yaml).

``dagster-postgres`` opens a new PostgreSQL connection for every event-log access (``NullPool``: "to
prevent accumulating connections per DagsterInstance"). A run of the nightly writes ≈ 1,000 events
(one planned event and one materialization per asset and team-day), and each write opens about two
connections: PostgreSQL forks a backend process for every one of them. Measured on the 2-core host
(issue 9, docs/benchmarks.md): 1,906 connections for one 50-team × 3-day run, more PostgreSQL CPU than
the whole run worker.

``PooledPostgresEventLogStorage`` is the stock storage with a small connection pool per process
(``pool_size`` kept open, ``max_overflow`` more under bursts, ``pre_ping`` so a dropped connection is
replaced instead of failing a write). Every Dagster process holds at most ``pool_size`` idle
connections: size PostgreSQL's ``max_connections`` for (code servers + daemon + webserver + concurrent
run workers) × (pool_size + max_overflow). Nothing else changes: the same tables, migrations and
queries; ``dagster instance migrate`` works as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import Field, IntSource
from dagster._core.storage.config import pg_config
from dagster._serdes import ConfigurableClassData
from dagster_postgres import PostgresEventLogStorage
from dagster_postgres.utils import create_pg_engine, get_token_provider_from_config, pg_url_from_config
from sqlalchemy import event

POOL_DEFAULTS = {"pool_size": 1, "max_overflow": 4, "pool_recycle": 3600}


class PooledPostgresEventLogStorage(PostgresEventLogStorage):
    """PostgreSQL event log storage with a per-process connection pool (see module docstring)."""

    def __init__(
        self,
        postgres_url: str,
        should_autocreate_tables: bool = True,
        inst_data: ConfigurableClassData | None = None,
        token_provider: Any = None,
        *,
        pool_size: int = POOL_DEFAULTS["pool_size"],
        max_overflow: int = POOL_DEFAULTS["max_overflow"],
        pool_recycle: int = POOL_DEFAULTS["pool_recycle"],
    ) -> None:
        if pool_size < 1 or max_overflow < 0 or pool_recycle < 1:
            raise ValueError(
                f"PooledPostgresEventLogStorage: pool_size must be ≥ 1, max_overflow ≥ 0 and pool_recycle ≥ 1 "
                f"(got pool_size={pool_size}, max_overflow={max_overflow}, pool_recycle={pool_recycle})"
            )
        super().__init__(postgres_url, should_autocreate_tables, inst_data, token_provider)
        unpooled = self._engine
        self._engine = create_pg_engine(
            self.postgres_url,
            token_provider,
            isolation_level="AUTOCOMMIT",
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_recycle=pool_recycle,
            pool_pre_ping=True,
        )
        unpooled.dispose()
        self.pool_size, self.max_overflow = pool_size, max_overflow
        self.connections_opened = 0  # new PostgreSQL connections since start (tests, diagnostics)
        event.listen(self._engine, "connect", self._count_connect)

    def _count_connect(self, *_: Any) -> None:
        self.connections_opened += 1

    @classmethod
    def config_type(cls) -> Mapping[str, Any]:
        return {
            **pg_config(),
            "pool_size": Field(IntSource, is_required=False, default_value=POOL_DEFAULTS["pool_size"]),
            "max_overflow": Field(IntSource, is_required=False, default_value=POOL_DEFAULTS["max_overflow"]),
            "pool_recycle": Field(IntSource, is_required=False, default_value=POOL_DEFAULTS["pool_recycle"]),
        }

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> PooledPostgresEventLogStorage:
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
            pool_size=int(config_value.get("pool_size", POOL_DEFAULTS["pool_size"])),
            max_overflow=int(config_value.get("max_overflow", POOL_DEFAULTS["max_overflow"])),
            pool_recycle=int(config_value.get("pool_recycle", POOL_DEFAULTS["pool_recycle"])),
        )

    def dispose(self) -> None:
        super().dispose()
        self._engine.dispose()
