"""The event log storages of dagster.yaml and dagster.postgres.yaml write a run's planned events in batches
(resources/dagster_storage.py) and keep every guarantee: one planned event per team-day, each team-day
materialized or failed on its own, the asset table left with the run's last event."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest
import yaml
from flow_support import (
    USAGE,
    day_keys,
    failed_partitions,
    make_flow,
    pg_schema,
    postgres_instance_storages,
    today,
)

from resources import dagster_storage, settings

ROOT = Path(__file__).resolve().parents[2]


def _sqlite_storage_override(base_dir: Path) -> dict:
    """dagster.yaml's own event_log_storage entry, with a base_dir under this test's temp dir."""
    entry = dict(yaml.safe_load((ROOT / "dagster.yaml").read_text())["event_log_storage"])
    assert (entry["module"], entry["class"]) == ("resources.dagster_storage", "BatchedSqliteEventLogStorage")
    return {"event_log_storage": {**entry, "config": {"base_dir": str(base_dir)}}}


@pytest.fixture
def batches(monkeypatch) -> Iterator[list[list[str]]]:
    """Every planned-event batch the storages write, as its partition keys; batching on as deployed (the
    storage sets DAGSTER_EVENT_BATCH_SIZE when unset; monkeypatch restores the variable afterwards)."""
    monkeypatch.delenv(settings.DAGSTER_EVENT_BATCH_SIZE_ENV, raising=False)
    seen: list[list[str]] = []
    for cls in (dagster_storage.BatchedSqliteEventLogStorage, dagster_storage.PooledPostgresEventLogStorage):
        original = cls._store_planned

        def spy(self, events, _original=original):
            seen.append([e.dagster_event.partition for e in events])
            return _original(self, events)

        monkeypatch.setattr(cls, "_store_planned", spy)
    yield seen


def _revoked_among_three(flow) -> tuple[set[str], set[str], str]:
    for slug in ("t-a", "t-b", "t-c"):
        flow.add_team(slug, f"{slug}-org")
    flow.set_org("t-b", tokens=["gho_someone_elses_token_0123456789"])  # t-b's stored token → 401
    end = today() - timedelta(days=38)
    start = end - timedelta(days=2)
    result = flow.range_run("t-a", "t-c", start, end, USAGE)
    assert not result.success
    good = day_keys("t-a", start, end) | day_keys("t-c", start, end)
    return good, day_keys("t-b", start, end), result.run_id


def _assert_guarantees(flow, batches: list[list[str]], good: set[str], revoked: set[str], run_id: str) -> None:
    assert settings.env(settings.DAGSTER_EVENT_BATCH_SIZE_ENV) == str(dagster_storage.EVENT_BATCH_SIZE)
    # the run's 9 planned events of copilot_usage went to the storage as ONE batch
    assert [sorted(b) for b in batches] == [sorted(good | revoked)]
    planned = flow.instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED).records
    assert sorted(r.event_log_entry.dagster_event.partition for r in planned) == sorted(good | revoked)
    assert len({r.storage_id for r in planned}) == 9
    # the index (cross-run asset queries) has them too, and the asset's row names this run
    for key in good | revoked:
        info = flow.instance.get_latest_planned_materialization_info(USAGE, key)
        assert info is not None and info.run_id == run_id, key
    [entry] = flow.instance.get_asset_records([USAGE])
    assert entry.asset_entry.last_run_id == run_id
    # each team-day materialized or failed on its own (the UI's partition status)
    assert flow.materialized(USAGE) == good
    assert failed_partitions(flow, USAGE) == revoked


def test_planned_events_in_one_batch_on_the_default_sqlite_instance(fast_tmp, sim, batches) -> None:
    with make_flow(fast_tmp, sim, f"sqlite:///{fast_tmp / 'store.db'}",
                   _sqlite_storage_override(fast_tmp / "event_logs")) as flow:
        assert type(flow.instance.event_log_storage).__name__ == "BatchedSqliteEventLogStorage"
        good, revoked, run_id = _revoked_among_three(flow)
        _assert_guarantees(flow, batches, good, revoked, run_id)
        assert (fast_tmp / "event_logs" / f"{run_id}.db").exists()  # the run's own shard, as Dagster's default
        # one Engine kept per shard (index + this run), and what it wrote is on disk for any other process
        assert {"index", run_id} <= set(flow.instance.event_log_storage._engines)
        other = dagster_storage.BatchedSqliteEventLogStorage(str(fast_tmp / "event_logs"))
        try:
            mine = flow.instance.get_records_for_run(run_id, limit=10_000).records
            theirs = other.get_records_for_run(run_id, limit=10_000).records
            assert [r.storage_id for r in theirs] == [r.storage_id for r in mine] and len(mine) > 20
        finally:
            other.dispose()


@pytest.mark.postgres
def test_planned_events_in_one_batch_on_postgres(tmp_path, sim, pg_available, batches) -> None:
    base = settings.normalize_database_url(pg_available)
    with pg_schema(base) as (instance_url, _), pg_schema(base) as (store_url, _), \
            make_flow(tmp_path, sim, store_url, postgres_instance_storages(instance_url)) as flow:
        assert type(flow.instance.event_log_storage).__name__ == "PooledPostgresEventLogStorage"
        good, revoked, run_id = _revoked_among_three(flow)
        _assert_guarantees(flow, batches, good, revoked, run_id)


def test_an_operators_batch_size_wins_and_zero_writes_one_by_one(fast_tmp, sim, monkeypatch, batches) -> None:
    monkeypatch.setenv(settings.DAGSTER_EVENT_BATCH_SIZE_ENV, "0")
    with make_flow(fast_tmp, sim, f"sqlite:///{fast_tmp / 'store.db'}",
                   _sqlite_storage_override(fast_tmp / "event_logs")) as flow:
        good, revoked, _ = _revoked_among_three(flow)
        assert settings.env(settings.DAGSTER_EVENT_BATCH_SIZE_ENV) == "0"
        assert batches == []  # Dagster wrote them one by one
        assert flow.materialized(USAGE) == good and failed_partitions(flow, USAGE) == revoked


def test_segments_keep_the_order_and_split_other_events_and_runs() -> None:
    def ev(kind: dg.DagsterEventType, run: str, partition: str | None = None) -> dg.EventLogEntry:
        if kind == dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED:
            from dagster._core.events import AssetMaterializationPlannedData

            data = AssetMaterializationPlannedData(USAGE, partition=partition)
            dagster_event = dg.DagsterEvent.build_asset_materialization_planned_event("job", "step", data)
        else:
            from dagster._core.events import EngineEventData

            dagster_event = dg.DagsterEvent(event_type_value=kind.value, job_name="job",
                                            event_specific_data=EngineEventData())
        return dg.EventLogEntry(error_info=None, level=10, user_message="", run_id=run, timestamp=0.0,
                                dagster_event=dagster_event)

    p = dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
    other = dg.DagsterEventType.ENGINE_EVENT
    events = [ev(p, "r1", "a"), ev(p, "r1", "b"), ev(other, "r1"), ev(p, "r1", "c"), ev(p, "r2", "d")]
    segs = list(dagster_storage.planned_segments(events))
    assert [(planned, [e.dagster_event.partition for e in seg]) for planned, seg in segs] == [
        (True, ["a", "b"]), (False, [None]), (True, ["c"]), (True, ["d"])]
    last = dagster_storage.last_per_asset(events[:2], [7, 8])
    assert [(e.dagster_event.partition, i) for e, i in last] == [("b", 8)]


def test_sqlite_storage_lives_where_dagsters_default_keeps_its_event_logs(tmp_path, monkeypatch) -> None:
    from dagster._core.instance.ref import _event_logs_directory

    monkeypatch.setenv(settings.DAGSTER_HOME_ENV, str(tmp_path))
    monkeypatch.setenv(settings.DAGSTER_EVENT_BATCH_SIZE_ENV, "0")
    storage = dagster_storage.BatchedSqliteEventLogStorage()
    assert Path(storage._base_dir) == Path(_event_logs_directory(str(tmp_path)))


def test_storage_config_errors_are_clear(monkeypatch) -> None:
    monkeypatch.delenv(settings.DAGSTER_HOME_ENV, raising=False)
    with pytest.raises(ValueError, match="set its base_dir or DAGSTER_HOME"):
        dagster_storage.BatchedSqliteEventLogStorage()
    with pytest.raises(ValueError, match=r"event_batch_size must be ≥ 0 \(got -1\)"):
        settings.enable_dagster_event_batching(-1)
