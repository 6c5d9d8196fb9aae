"""New materializations of some assets since a sensor's cursor, once the runs that made them have finished
(a downstream refresh must see all the steps of a run), and the runs a refresh waits for. Shared by the
sensors that refresh what depends on fresh metrics (insights, team reports)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from copilot_assets.outcomes import RUN_TRIGGER_TAG
from copilot_assets.partitions import parse_team_day

FIRST_TICK_LOOKBACK = timedelta(hours=36)
RECORDS_PER_ASSET = 5000
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
UNFINISHED = [s for s in dg.DagsterRunStatus if s not in FINISHED]
# A refresh waits for unfinished runs created this recently: a run stuck in STARTED (a lost worker nobody
# marked failed) delays insights and reports by at most this much, never for good.
WAIT_FOR_RUNS_AT_MOST = timedelta(hours=6)


@dataclass
class Fresh:
    """What a tick found: the teams whose ``day`` partition was materialized by a finished run, how many
    materializations still wait for their run, and the cursor to store."""

    teams: set[str]
    pending: int
    cursor: str | None
    seen: int


def _fetch(instance: dg.DagsterInstance, keys: Sequence[dg.AssetKey], after_id: int | None) -> tuple[list, int | None]:
    """Materializations after ``after_id`` (first tick: of the last 36 h), oldest first, and the highest storage
    id that is safe to move the cursor to (a page that hit its limit bounds it)."""
    records = []
    bound: int | None = None
    for key in keys:
        if after_id is None:
            flt = dg.AssetRecordsFilter(asset_key=key,
                                        after_timestamp=(datetime.now(UTC) - FIRST_TICK_LOOKBACK).timestamp())
        else:
            flt = dg.AssetRecordsFilter(asset_key=key, after_storage_id=after_id)
        page = instance.fetch_materializations(flt, limit=RECORDS_PER_ASSET, ascending=True).records
        if len(page) >= RECORDS_PER_ASSET:
            bound = page[-1].storage_id if bound is None else min(bound, page[-1].storage_id)
        records.extend(page)
    if bound is not None:
        records = [r for r in records if r.storage_id <= bound]
    return sorted(records, key=lambda r: r.storage_id), bound


def fresh_team_days(instance: dg.DagsterInstance, keys: Sequence[dg.AssetKey], cursor: str | None,
                    day: date) -> Fresh:
    """Teams whose team-day ``day`` of any of ``keys`` was materialized since ``cursor`` by a run that has
    finished; materializations of runs still in progress are held back for a later tick."""
    after_id = (json.loads(cursor) if cursor else {}).get("after")
    records, bound = _fetch(instance, keys, after_id)
    if not records:
        return Fresh(set(), 0, cursor, 0)
    run_ids = sorted({r.run_id for r in records})
    statuses = {rr.dagster_run.run_id: rr.dagster_run.status
                for rr in instance.get_run_records(filters=dg.RunsFilter(run_ids=run_ids))}
    pending = [r.storage_id for r in records if statuses.get(r.run_id) not in FINISHED]
    done = [r for r in records if not pending or r.storage_id < min(pending)]
    new_after = (min(pending) - 1) if pending else (bound if bound is not None else records[-1].storage_id)
    prefix = f"{day.isoformat()}|"
    teams = {parse_team_day(r.partition_key).team for r in done
             if r.partition_key and str(r.partition_key).startswith(prefix)}
    return Fresh(teams, len(pending), json.dumps({"after": new_after}), len(records))


def unfinished_runs(instance: dg.DagsterInstance, trigger: str) -> int:
    """Runs tagged ``copilot/trigger`` = ``trigger``, created within ``WAIT_FOR_RUNS_AT_MOST``, that have not
    finished (queued, starting, started, canceling)."""
    since = datetime.now(UTC) - WAIT_FOR_RUNS_AT_MOST
    return instance.get_runs_count(dg.RunsFilter(tags={RUN_TRIGGER_TAG: trigger}, statuses=UNFINISHED,
                                                 created_after=since))


def waiting_for(instance: dg.DagsterInstance, *triggers: str) -> str | None:
    """Why a refresh should wait this tick ("waiting for 3 nightly run(s) to finish"), or None."""
    counts = {t: unfinished_runs(instance, t) for t in triggers}
    busy = [f"{n} {t}" for t, n in counts.items() if n]
    return f"waiting for {' and '.join(busy)} run(s) to finish" if busy else None


__all__ = ["FINISHED", "WAIT_FOR_RUNS_AT_MOST", "Fresh", "fresh_team_days", "unfinished_runs", "waiting_for"]
