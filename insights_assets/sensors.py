"""``copilot_insights_automation``: an insight run for each syncable team whose latest team-day's metrics
were just synced — and for no other team.

Declarative automation cannot see a team's status in the app store, so it asked for insights of disabled
and revoked teams too (each an empty run in the run list). This sensor reads the new materializations of the
three sync assets since its cursor (storage ids), waits until the run that made them has finished (so the
insight sees all three) and, while the night's sync runs are still queued or running, until they all have
(insight runs would compete with them for the run workers' CPU, and one wave of runs after the nightly is
fewer runs than one per finished sync run), keeps the latest date partition of teams that are syncable (connected,
``integration_copilot_enabled`` on, usable credential — ``copilot_assets.eligibility``) and asks for range
runs over consecutive teams, as the nightly does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg

from copilot_assets.eligibility import syncable_teams
from copilot_assets.jobs import INSIGHTS_KEY, RANGE_END, RANGE_START, SYNC_KEYS, consecutive_chunks
from copilot_assets.materializations import fresh_team_days, waiting_for
from copilot_assets.outcomes import RUN_TRIGGER_TAG
from copilot_assets.partitions import TEAMS_PARTITION_NAME
from resources.app_store import StoreResource

MAX_TEAMS_PER_INSIGHT_RUN = 50  # an insight run waits on Claude per team, not on the CPU


@dg.sensor(
    name="copilot_insights_automation",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    asset_selection=[INSIGHTS_KEY],
    description="Requests copilot_insights for the latest team-day of each syncable team whose metrics were "
    "just synced (after the syncing run finished, and after every nightly sync run still queued or running, "
    "at most 6 h), in runs of consecutive teams; never for disabled, revoked or flag-off teams.",
)
def copilot_insights_automation(context: dg.SensorEvaluationContext, store: StoreResource):
    latest = datetime.now(UTC).date() - timedelta(days=1)  # the latest date partition
    fresh = fresh_team_days(context.instance, SYNC_KEYS, context.cursor, latest)
    if not fresh.seen:
        return dg.SkipReason("no new metrics since the last tick")
    busy = waiting_for(context.instance, "nightly")  # insights after the night's sync, not beside it
    if busy:
        return dg.SkipReason(f"{busy}; {len(fresh.teams)} team(s) already fresh")
    elig = syncable_teams(store.get())
    wanted = fresh.teams & elig.slugs
    ignored = sorted(fresh.teams - wanted)
    if ignored:
        context.log.info("no insight for " + ", ".join(f"{s} ({elig.skipped.get(s, 'not syncable')})"
                                                      for s in ignored))
    if fresh.pending:
        context.log.info(f"{fresh.pending} materialization(s) of runs still in progress: waiting for them")
    order = context.instance.get_dynamic_partitions(TEAMS_PARTITION_NAME)
    requests = [
        dg.RunRequest(
            run_key=f"insights:{latest}:{chunk[0]}..{chunk[-1]}:{fresh.cursor}",
            asset_selection=[INSIGHTS_KEY],
            tags={RANGE_START: f"{latest}|{chunk[0]}", RANGE_END: f"{latest}|{chunk[-1]}",
                  RUN_TRIGGER_TAG: "insights", "copilot/teams": f"{chunk[0]}..{chunk[-1]}"},
        )
        for chunk in consecutive_chunks(order, wanted, MAX_TEAMS_PER_INSIGHT_RUN)
    ]
    if not requests:
        return dg.SensorResult(cursor=fresh.cursor, skip_reason=f"{len(fresh.teams)} team(s) updated on {latest}; "
                               f"none syncable ({len(ignored)} ignored)" if fresh.teams else "no latest-day update")
    return dg.SensorResult(run_requests=requests, cursor=fresh.cursor)


__all__ = ["copilot_insights_automation"]
