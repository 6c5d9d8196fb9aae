"""``copilot_failure_sensor``: the backstop that applies failed runs to team status, catching up.

The sync step records its typed outcomes itself (``copilot_assets.outcomes``); this sensor applies the runs
whose step could not (a killed worker, an unreachable store) and is the one place that reads a failed run
back from Dagster's event log. Unlike Dagster's run-failure sensor, whose first tick starts from "now", it
keeps its own cursor over failed runs and, on its first tick (a new deployment, the sensor switched back on)
or after the daemon was down, catches up on the failed runs of the last ``failure_catch_up_days`` it has not
processed. Exactly once per (run, team) either way (``copilot_run_outcomes``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from copilot_assets.jobs import SYNC_KEYS
from copilot_assets.outcomes import apply_failures, failed_team_days, teams_of_run
from copilot_assets.rederive import REDERIVE_JOB
from resources.app_store import StoreResource
from resources.store import Store
from resources.sync_policy import SyncPolicyResource

RUNS_PER_TICK = 100


def _aware(value: Any) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def run_failures(instance: dg.DagsterInstance, run: dg.DagsterRun) -> list[dict[str, Any]]:
    """The failed team-days of a run, from its step failures: the typed ``failed_team_days`` of the sync
    steps' ``Failure``, or — for a step that died of an unexpected error — one ``internal_error`` per team
    the run targeted, with the error's message."""
    out: list[dict[str, Any]] = []
    records = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE).records
    for rec in records:
        event = rec.event_log_entry.dagster_event
        data = event.step_failure_data if event is not None else None
        if data is None:
            continue
        ufd = data.user_failure_data
        if ufd is not None and ufd.metadata:
            out.extend(failed_team_days(dict(ufd.metadata)))
            continue
        message = (data.error.message if data.error else "step failed").strip()[:500]
        out.extend({"team": slug, "day": None, "error_kind": "internal_error", "http_status": 0,
                    "message": message} for slug in teams_of_run(run.tags))
    return out


def touches_sync_assets(run: dg.DagsterRun) -> bool:
    if run.job_name == REDERIVE_JOB:  # reads stored raw reports only: never a GitHub outcome
        return False
    selection = set(run.asset_selection or [])
    return not selection or bool(selection & set(SYNC_KEYS))


def apply_failed_run(store: Store, instance: dg.DagsterInstance, run: dg.DagsterRun, *,
                     actor: str = "copilot_failure_sensor", log: Any = None) -> dict[str, str]:
    """Apply one failed run's outcomes (exactly once per run and team)."""
    record = instance.get_run_record_by_id(run.run_id)
    now = datetime.now(UTC)
    started = _aware(record.start_time) if record and record.start_time else now
    created = _aware(record.create_timestamp) if record and record.create_timestamp else started
    return apply_failures(store, run_id=run.run_id, tags=dict(run.tags), records=run_failures(instance, run),
                          run_started_at=started, run_created_at=created, actor=actor, log=log)


@dg.sensor(
    name="copilot_failure_sensor",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Backstop: applies the team status machine for failed runs that touched the Copilot sync "
    "assets (UI, backfill, schedule, onboarding) whose step could not record it, exactly once per run and "
    "team; catches up on failed runs of the last days on its first tick or after the daemon was down.",
)
def copilot_failure_sensor(context: dg.SensorEvaluationContext, store: StoreResource,
                           sync_policy: SyncPolicyResource):
    cursor = json.loads(context.cursor) if context.cursor else None
    if cursor:
        after = datetime.fromtimestamp(float(cursor["ts"]), UTC) - timedelta(milliseconds=1)
        seen = set(cursor.get("ids", []))
    else:  # first tick: catch up instead of starting from "now"
        after = datetime.now(UTC) - timedelta(days=sync_policy.failure_catch_up_days)
        seen = set()
    records = context.instance.get_run_records(
        filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE], updated_after=after),
        order_by="update_timestamp", ascending=True, limit=RUNS_PER_TICK,
    )
    s = store.get()
    applied = 0
    last_ts = float(cursor["ts"]) if cursor else after.timestamp()
    ids_at_last: set[str] = set(seen)
    for rec in records:
        run = rec.dagster_run
        ts = _aware(rec.update_timestamp).timestamp()
        if ts > last_ts:
            last_ts, ids_at_last = ts, set()
        ids_at_last.add(run.run_id)
        if run.run_id in seen or not touches_sync_assets(run):
            continue
        outcome = apply_failed_run(s, context.instance, run)
        changed = {k: v for k, v in outcome.items() if v != "already applied"}
        if changed:
            applied += 1
            context.log.info(f"run {run.run_id[:8]}: " + "; ".join(f"{k}: {v}" for k, v in sorted(changed.items())))
    new_cursor = json.dumps({"ts": last_ts, "ids": sorted(ids_at_last)})
    if not applied:
        return dg.SensorResult(cursor=new_cursor,
                               skip_reason=f"{len(records)} failed run(s) read; none with a new outcome")
    return dg.SensorResult(cursor=new_cursor)


__all__ = ["apply_failed_run", "copilot_failure_sensor", "run_failures", "touches_sync_assets"]
