"""``copilot_insights_automation``: an insight run for each syncable team whose latest team-day's metrics
were just synced — and for no other team.

Declarative automation cannot see a team's status in the app store, so it asked for insights of disabled
and revoked teams too (each an empty run in the run list). This sensor reads the new materializations of the
three sync assets since its cursor (storage ids), waits until the run that made them has finished (so the
insight sees all three), keeps the latest date partition of teams that are syncable (connected,
``integration_copilot_enabled`` on, usable credential — ``copilot_assets.eligibility``) and asks for range
runs over consecutive teams, as the nightly does.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import dagster as dg

from copilot_assets.eligibility import syncable_teams
from copilot_assets.jobs import INSIGHTS_KEY, MAX_TEAMS_PER_RUN, RANGE_END, RANGE_START, SYNC_KEYS, consecutive_chunks
from copilot_assets.outcomes import RUN_TRIGGER_TAG
from copilot_assets.partitions import TEAMS_PARTITION_NAME, parse_team_day
from resources.app_store import StoreResource

FIRST_TICK_LOOKBACK = timedelta(hours=36)
RECORDS_PER_ASSET = 5000
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


def _new_materializations(instance: dg.DagsterInstance, after_id: int | None) -> tuple[list, int | None]:
    """Materializations of the sync assets after ``after_id`` (first tick: of the last 36 h), oldest first,
    and the highest storage id that is safe to move the cursor to (a page that hit its limit bounds it)."""
    records = []
    bound: int | None = None
    for key in SYNC_KEYS:
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


@dg.sensor(
    name="copilot_insights_automation",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    asset_selection=[INSIGHTS_KEY],
    description="Requests copilot_insights for the latest team-day of each syncable team whose metrics were "
    "just synced (after the syncing run finished), in runs of consecutive teams; never for disabled, revoked or "
    "flag-off teams.",
)
def copilot_insights_automation(context: dg.SensorEvaluationContext, store: StoreResource):
    cursor = json.loads(context.cursor) if context.cursor else {}
    after_id = cursor.get("after")
    records, bound = _new_materializations(context.instance, after_id)
    if not records:
        return dg.SkipReason("no new metrics since the last tick")
    run_ids = sorted({r.run_id for r in records})
    statuses = {rr.dagster_run.run_id: rr.dagster_run.status
                for rr in context.instance.get_run_records(filters=dg.RunsFilter(run_ids=run_ids))}
    pending = [r.storage_id for r in records if statuses.get(r.run_id) not in FINISHED]
    done = [r for r in records if not pending or r.storage_id < min(pending)]
    new_after = (min(pending) - 1) if pending else (bound if bound is not None else records[-1].storage_id)
    latest = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()  # the latest date partition
    updated = {parse_team_day(r.partition_key).team for r in done
               if r.partition_key and str(r.partition_key).startswith(f"{latest}|")}
    elig = syncable_teams(store.get())
    wanted = updated & elig.slugs
    ignored = sorted(updated - wanted)
    if ignored:
        context.log.info("no insight for " + ", ".join(f"{s} ({elig.skipped.get(s, 'not syncable')})"
                                                      for s in ignored))
    order = context.instance.get_dynamic_partitions(TEAMS_PARTITION_NAME)
    requests = [
        dg.RunRequest(
            run_key=f"insights:{latest}:{chunk[0]}..{chunk[-1]}:{new_after}",
            asset_selection=[INSIGHTS_KEY],
            tags={RANGE_START: f"{latest}|{chunk[0]}", RANGE_END: f"{latest}|{chunk[-1]}",
                  RUN_TRIGGER_TAG: "insights", "copilot/teams": f"{chunk[0]}..{chunk[-1]}"},
        )
        for chunk in consecutive_chunks(order, wanted, MAX_TEAMS_PER_RUN)
    ]
    new_cursor = json.dumps({"after": new_after})
    if pending:
        context.log.info(f"{len(pending)} materialization(s) of runs still in progress: waiting for them")
    if not requests:
        return dg.SensorResult(cursor=new_cursor, skip_reason=f"{len(updated)} team(s) updated on {latest}; "
                               f"none syncable ({len(ignored)} ignored)" if updated else "no latest-day update")
    return dg.SensorResult(run_requests=requests, cursor=new_cursor)


__all__ = ["copilot_insights_automation"]
