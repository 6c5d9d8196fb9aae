"""The nightly: 04:45 UTC, re-pull the last 3 days of every syncable team, and fill the gaps of the horizon.

The window run of each chunk of consecutive syncable teams carries ``copilot/night`` (the tick's date), so
its failures count toward the 3-strike rule whenever the run executes. Gap fills fetch only the missing
team-days (runs of consecutive days, decision 11) and never count toward strikes.
"""

from __future__ import annotations

from datetime import UTC, timedelta

import dagster as dg

from copilot_assets.eligibility import syncable_teams
from copilot_assets.gaps import gap_window, missing_days, plan_gap_runs
from copilot_assets.jobs import MIN_TEAMS_PER_RUN, consecutive_chunks, copilot_sync_job, range_run_request
from copilot_assets.metrics import NIGHTLY_WINDOW_DAYS
from copilot_assets.partitions import TEAMS_PARTITION_NAME
from resources.app_store import StoreResource
from resources.flags import COPILOT_FLAG
from resources.sync_policy import SyncPolicyResource

NIGHTLY_CRON = "45 4 * * *"


@dg.schedule(
    name="copilot_nightly_sync",
    cron_schedule=NIGHTLY_CRON,
    execution_timezone="UTC",
    job=copilot_sync_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="04:45 UTC: re-pull the last 3 days for every syncable team (connected, flag on, usable "
    "credential) in runs of consecutive teams, and re-fetch the missing team-days of the gap horizon.",
)
def copilot_nightly_sync(context: dg.ScheduleEvaluationContext, store: StoreResource,
                         sync_policy: SyncPolicyResource):
    s = store.get()
    global_value, _ = s.flag_values(COPILOT_FLAG)
    if not global_value:
        return dg.SkipReason(f"{COPILOT_FLAG} is {'off' if global_value is False else 'not set'} globally: "
                             "nothing syncs (copilot-flow flags set integration_copilot_enabled on)")
    tick = context.scheduled_execution_time.astimezone(UTC).date()
    end = tick - timedelta(days=1)
    start = tick - timedelta(days=NIGHTLY_WINDOW_DAYS)
    elig = syncable_teams(s)
    skipped = dict(elig.skipped)
    ordered = context.instance.get_dynamic_partitions(TEAMS_PARTITION_NAME) if context.instance else []
    partitioned = set(ordered)
    for slug in sorted(elig.slugs - partitioned):
        skipped[slug] = "no teams partition yet (copilot_teams_sensor adds it)"
    eligible = elig.slugs & partitioned
    chunks = consecutive_chunks(ordered, eligible, sync_policy.max_teams_per_run,
                                runs_at_once=sync_policy.runs_at_once, min_per_chunk=MIN_TEAMS_PER_RUN)
    context.log.info(f"nightly {tick}: {len(eligible)} team(s) in {len(chunks)} run(s) for {start}..{end}; "
                     f"{len(skipped)} skipped")
    for slug, why in sorted(skipped.items()):
        context.log.info(f"  skipped {slug}: {why}")
    if not chunks:
        return dg.SkipReason(f"no syncable team ({len(skipped)} skipped: "
                             + "; ".join(f"{k}: {v}" for k, v in sorted(skipped.items())[:5]) + ")")
    requests = [
        range_run_request(chunk, start, end, trigger="nightly", night=tick,
                          run_key=f"nightly:{tick.isoformat()}:{chunk[0]}..{chunk[-1]}")
        for chunk in chunks
    ]

    # the gap horizon: days that left it still without a report are confirmed empty (once), the missing
    # team-days inside it are re-fetched, only those days
    horizon = sync_policy.gap_horizon_days
    gap_start, gap_end = gap_window(tick, horizon)
    confirmed = s.confirm_empty_days([t.id for t in s.list_teams()], before=gap_start, horizon_days=horizon)
    if confirmed:
        context.log.info(f"  {confirmed} team-day(s) left the {horizon}-day horizon without a report: "
                         "recorded as confirmed empty")
    by_id = {t.id: t.slug for t in elig.teams if t.slug in eligible}
    gaps = missing_days(s, by_id, gap_start, gap_end)
    missing = {by_id[tid]: per_asset for tid, per_asset in gaps.items()}
    for run in plan_gap_runs(missing, ordered, sync_policy.max_teams_per_run):
        teams = f"{run.teams[0]}..{run.teams[-1]}" if len(run.teams) > 1 else run.teams[0]
        context.log.info(f"  gap fill {teams}: {', '.join(run.assets)} {run.start}..{run.end} "
                         f"({run.days} day(s))")
        requests.append(range_run_request(
            list(run.teams), run.start, run.end, trigger="gapfill", asset_keys=[dg.AssetKey(a) for a in run.assets],
            run_key=f"gapfill:{tick.isoformat()}:{'+'.join(run.assets)}:{run.start}..{run.end}:{teams}"))
    return requests


COPILOT_SCHEDULES = [copilot_nightly_sync]
