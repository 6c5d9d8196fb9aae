"""Dagster event log storages that write a run's planned events in one statement, and on PostgreSQL keep
their connections (dagster.yaml, dagster.postgres.yaml).

**Planned events in batches.** Creating a run writes one ``ASSET_MATERIALIZATION_PLANNED`` event per asset and
partition — 450 for a 50-team nightly run — and the stock storages write them one by one (an insert, an
index-shard mirror or asset-table update, and on SQLite two new connections, each). Dagster hands them over as
one batch when ``DAGSTER_EVENT_BATCH_SIZE`` is set (``settings.enable_dagster_event_batching``, called by these
storages with their ``event_batch_size``); ``store_event_batch`` below then inserts the batch with one
multi-row statement and updates each asset's row once, with the last event (what the one-by-one path leaves
there too). The rows are the same: one planned event per team-day, so a failed run still marks exactly its
unmaterialized team-days failed. Other events keep the stock path.

**PostgreSQL connections.**

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

from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import groupby
from pathlib import Path
from typing import Any

from dagster import DagsterEventType, Field, IntSource, StringSource
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.config import pg_config
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from dagster_postgres import PostgresEventLogStorage
from dagster_postgres.utils import create_pg_engine, get_token_provider_from_config, pg_url_from_config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from resources import settings

POOL_DEFAULTS = {"pool_size": 1, "max_overflow": 4, "pool_recycle": 3600}
EVENT_BATCH_SIZE = 1000  # ≥ the planned events of the largest run (3 assets × 3 days × 50 teams = 450)
BATCH_ROWS = 500  # rows per insert statement (SQLite's bound-parameter limit)
ENGINES_KEPT = 64  # SQLite shards (the index + recent runs) whose Engine is kept
PLANNED = DagsterEventType.ASSET_MATERIALIZATION_PLANNED


def _is_planned(e: EventLogEntry) -> bool:
    return e.dagster_event is not None and e.dagster_event.event_type == PLANNED and bool(e.dagster_event.asset_key)


def planned_segments(events: Sequence[EventLogEntry]) -> Iterator[tuple[bool, list[EventLogEntry]]]:
    """The batch in order, as runs of (planned asset events of one run | anything else)."""
    for (planned, _run), seg in groupby(events, key=lambda e: (_is_planned(e), e.run_id)):
        yield planned, list(seg)


def last_per_asset(events: Sequence[EventLogEntry], ids: Sequence[int]) -> list[tuple[EventLogEntry, int]]:
    """Each asset's last event of the batch with its storage id: what the asset table is left with."""
    last: dict[str, tuple[EventLogEntry, int]] = {}
    for e, i in zip(events, ids, strict=True):
        last[e.dagster_event.asset_key.to_string()] = (e, i)
    return list(last.values())


class _BatchedPlannedEvents:
    """``store_event_batch`` for planned events: one insert per ``BATCH_ROWS`` events (see module docstring)."""

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        for planned, seg in planned_segments(events):
            if planned and len(seg) > 1:
                for i in range(0, len(seg), BATCH_ROWS):
                    self._store_planned(seg[i:i + BATCH_ROWS])
            else:
                super().store_event_batch(seg)  # type: ignore[misc]

    def _store_planned(self, events: Sequence[EventLogEntry]) -> None:
        raise NotImplementedError

    def _index_planned(self, conn: Any, events: Sequence[EventLogEntry], ids: Sequence[int]) -> None:
        self._store_asset_event_tags(conn, events, ids)  # type: ignore[attr-defined]
        for e, i in last_per_asset(events, ids):
            self._store_asset_event(conn, e, i)  # type: ignore[attr-defined]


class BatchedSqliteEventLogStorage(_BatchedPlannedEvents, SqliteEventLogStorage):
    """Dagster's default SQLite event log (one database per run plus the index shard), with planned events
    written in batches and its engines kept per shard. ``base_dir`` defaults to ``$DAGSTER_HOME/history/runs``,
    where Dagster's default instance keeps it."""

    def __init__(self, base_dir: str | None = None, inst_data: ConfigurableClassData | None = None,
                 event_batch_size: int = EVENT_BATCH_SIZE) -> None:
        if not base_dir and not settings.dagster_home():
            raise ValueError("BatchedSqliteEventLogStorage: set its base_dir or DAGSTER_HOME")
        self._engines: OrderedDict[str, Engine] = OrderedDict()  # before super(): it connects to the index
        super().__init__(base_dir or str(Path(settings.dagster_home()) / "history" / "runs"), inst_data)
        settings.enable_dagster_event_batching(event_batch_size)

    @classmethod
    def config_type(cls) -> Mapping[str, Any]:
        return {"base_dir": Field(StringSource, is_required=False),
                "event_batch_size": Field(IntSource, is_required=False, default_value=EVENT_BATCH_SIZE)}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None,
                          config_value: Mapping[str, Any]) -> BatchedSqliteEventLogStorage:
        return cls(base_dir=config_value.get("base_dir"), inst_data=inst_data,
                   event_batch_size=int(config_value.get("event_batch_size", EVENT_BATCH_SIZE)))

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        """Dagster's ``_connect`` with one ``Engine`` per shard kept (still ``NullPool``: no connection stays
        open, each use opens the file as before). The stock one builds and disposes an engine per event, and
        a new engine also starts with an empty statement cache, so every event recompiled its SQL (issue 20
        profile: ≈ 2 ms of a run worker's CPU per team-day)."""
        with self._db_lock:
            engine = self._engines.get(shard)
            if engine is None:
                engine = create_engine(self.conn_string_for_shard(shard), poolclass=NullPool,
                                       connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
                self._engines[shard] = engine
                if len(self._engines) > ENGINES_KEPT:
                    self._engines.popitem(last=False)[1].dispose()
            else:
                self._engines.move_to_end(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def dispose(self) -> None:
        super().dispose()
        with self._db_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def _store_planned(self, events: Sequence[EventLogEntry]) -> None:
        stmt = self.prepare_insert_event_batch(events)
        with self.run_connection(events[0].run_id) as conn:
            conn.execute(stmt)
        with self.index_transaction() as conn:  # the index shard mirrors asset events (SqliteEventLogStorage)
            ids = [int(r[0]) for r in conn.execute(stmt.returning(SqlEventLogStorageTable.c.id))]
            self._index_planned(conn, events, ids)


class PooledPostgresEventLogStorage(_BatchedPlannedEvents, PostgresEventLogStorage):
    """PostgreSQL event log storage with a per-process connection pool and planned events written in
    batches (see module docstring)."""

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
        event_batch_size: int = EVENT_BATCH_SIZE,
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
        settings.enable_dagster_event_batching(event_batch_size)

    def _count_connect(self, *_: Any) -> None:
        self.connections_opened += 1

    @classmethod
    def config_type(cls) -> Mapping[str, Any]:
        return {
            **pg_config(),
            "pool_size": Field(IntSource, is_required=False, default_value=POOL_DEFAULTS["pool_size"]),
            "max_overflow": Field(IntSource, is_required=False, default_value=POOL_DEFAULTS["max_overflow"]),
            "pool_recycle": Field(IntSource, is_required=False, default_value=POOL_DEFAULTS["pool_recycle"]),
            "event_batch_size": Field(IntSource, is_required=False, default_value=EVENT_BATCH_SIZE),
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
            event_batch_size=int(config_value.get("event_batch_size", EVENT_BATCH_SIZE)),
        )

    def _store_planned(self, events: Sequence[EventLogEntry]) -> None:
        stmt = self.prepare_insert_event_batch(events)
        with self._connect() as conn:
            ids = [int(r[0]) for r in conn.execute(stmt.returning(SqlEventLogStorageTable.c.id))]
        with self.index_transaction() as conn:
            self._index_planned(conn, events, ids)

    def dispose(self) -> None:
        super().dispose()
        self._engine.dispose()
