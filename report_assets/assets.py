"""Pictures where the analytics team already works: ``copilot_team_report`` (per team: the last 90 days as
charts in the materialization's metadata, the latest insight and the coverage) and ``copilot_org_overview``
(all teams side by side, the ones needing attention first). ``copilot_reports_sensor`` refreshes them after
the nightly and after insights. ``copilot-flow report TEAM --out team.html`` writes the same charts as one
shareable file (report_assets/html.py)."""


import base64
from datetime import UTC, datetime, timedelta

import dagster as dg

from copilot_assets.jobs import INSIGHTS_KEY, RANGE_END, RANGE_START, SYNC_KEYS, consecutive_chunks
from copilot_assets.materializations import fresh_team_days, waiting_for
from copilot_assets.partitions import TEAM_DIMENSION, TEAMS_PARTITION_NAME, team_partitions
from report_assets.charts import grid_png
from report_assets.overview import overview_markdown, overview_png, overview_rows
from report_assets.series import REPORT_DAYS, team_report_data
from resources.app_store import StoreResource

TEAM_REPORT_KEY = dg.AssetKey("copilot_team_report")
ORG_OVERVIEW_KEY = dg.AssetKey("copilot_org_overview")
MAX_TEAMS_PER_REPORT_RUN = 200


def _latest_day() -> datetime:
    return datetime.now(UTC) - timedelta(days=1)


def _image_md(title: str, png: bytes) -> str:
    return f"![{title}](data:image/png;base64,{base64.b64encode(png).decode()})"


@dg.asset(
    partitions_def=team_partitions,
    deps=[dg.AssetDep(INSIGHTS_KEY, partition_mapping=dg.MultiToSingleDimensionPartitionMapping(
        partition_dimension_name=TEAM_DIMENSION))],
    backfill_policy=dg.BackfillPolicy.single_run(),
    output_required=False,
    group_name="reports",
    owners=["team:analytics"],
    kinds={"matplotlib"},
    description=f"Per team, the last {REPORT_DAYS} days as charts (active users against seats, acceptance rate, "
    "agent and code-review users, PRs merged and time to merge, cost of unused seats, AI credits — each when "
    "present) in the materialization's metadata, with the latest insight and the data coverage. Days with no "
    "report, missing days and GitHub's changes of definition are marked, never drawn as zero.",
)
def copilot_team_report(context: dg.AssetExecutionContext, store: StoreResource):
    s = store.get()
    end = _latest_day().date()
    teams = s.teams_by_slug(context.partition_keys)
    for slug in context.partition_keys:
        team = teams.get(slug)
        if team is None:
            context.log.warning(f"team {slug!r} is not in the app store: no report")
            continue
        data = team_report_data(s, team, end)
        covered, window = data.coverage
        md: dict[str, object] = {
            "charts": dg.MetadataValue.md(_image_md(f"{slug} Copilot trends", grid_png(data))),
            "coverage": f"{covered}/{window} days",
            "status": team.copilot_status + (f" ({team.copilot_status_reason})" if team.copilot_status_reason
                                             else ""),
            "charts_drawn": ", ".join(data.charts()) or "none",
            "no_report_days": len(data.no_report_days),
            "missing_days": len(data.missing_days),
            "period": f"{data.start}..{data.end}",
        }
        if data.insight is not None:
            md["latest_insight"] = f"{data.insight['day']}: {data.insight['headline']}"
        yield dg.AssetMaterialization(asset_key=context.asset_key, partition=slug, metadata=md)


@dg.asset(
    deps=[TEAM_REPORT_KEY],
    group_name="reports",
    owners=["team:analytics"],
    kinds={"matplotlib"},
    description="All teams side by side: adoption (daily active users / seats), acceptance rate, seat "
    "utilisation, status and coverage of the last 28 days, the teams that need attention first.",
)
def copilot_org_overview(context: dg.AssetExecutionContext, store: StoreResource) -> dg.MaterializeResult:
    rows = overview_rows(store.get(), _latest_day().date())
    attention = [r for r in rows if r.attention]
    context.log.info(f"{len(rows)} team(s); {len(attention)} need attention")
    return dg.MaterializeResult(metadata={
        "overview": dg.MetadataValue.md(_image_md("adoption and acceptance per team", overview_png(rows))
                                        + "\n\n" + overview_markdown(rows)),
        "teams": len(rows),
        "teams_needing_attention": len(attention),
        "not_connected": sum(1 for r in rows if r.status != "connected"),
    })


@dg.sensor(
    name="copilot_reports_sensor",
    minimum_interval_seconds=120,
    default_status=dg.DefaultSensorStatus.RUNNING,
    asset_selection=[TEAM_REPORT_KEY, ORG_OVERVIEW_KEY],
    description="After a nightly or an insight run has finished, refreshes the reports of the teams whose latest "
    "day changed, then the org overview; while the night's sync or insight runs are still queued or running, it "
    "waits for all of them (at most 6 h).",
)
def copilot_reports_sensor(context: dg.SensorEvaluationContext):
    latest = _latest_day().date()
    fresh = fresh_team_days(context.instance, [*SYNC_KEYS, INSIGHTS_KEY], context.cursor, latest)
    if not fresh.teams:
        return dg.SensorResult(cursor=fresh.cursor, skip_reason="no team's latest day changed")
    busy = waiting_for(context.instance, "nightly", "insights")  # one refresh after the night and its insights
    if busy:
        return dg.SkipReason(f"{busy}; {len(fresh.teams)} team(s) changed")
    order = context.instance.get_dynamic_partitions(TEAMS_PARTITION_NAME)
    requests = [
        dg.RunRequest(run_key=f"reports:{latest}:{chunk[0]}..{chunk[-1]}:{fresh.cursor}",
                      asset_selection=[TEAM_REPORT_KEY],
                      tags={RANGE_START: chunk[0], RANGE_END: chunk[-1], "copilot/trigger": "reports"})
        for chunk in consecutive_chunks(order, fresh.teams, MAX_TEAMS_PER_REPORT_RUN)
    ]
    requests.append(dg.RunRequest(run_key=f"overview:{latest}:{fresh.cursor}", asset_selection=[ORG_OVERVIEW_KEY],
                                  tags={"copilot/trigger": "reports"}))
    return dg.SensorResult(run_requests=requests, cursor=fresh.cursor)


REPORT_ASSETS = [copilot_team_report, copilot_org_overview]
REPORT_SENSORS = [copilot_reports_sensor]

__all__ = ["ORG_OVERVIEW_KEY", "REPORT_ASSETS", "REPORT_SENSORS", "TEAM_REPORT_KEY", "copilot_org_overview",
           "copilot_reports_sensor", "copilot_team_report"]
