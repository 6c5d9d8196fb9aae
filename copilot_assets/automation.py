"""Schedules and sensors: nightly sync, team partitions, failure → status, onboarding, licence probe.

Every status change goes through ``team_health.apply_event`` (the pure status machine + one transaction).
"""


from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg

from copilot_assets import status as sm
from copilot_assets.assets import copilot_seats, copilot_usage, copilot_user_usage
from copilot_assets.gaps import GAP_LOOKBACK_DAYS, missing_days
from copilot_assets.partitions import TEAMS_PARTITION_NAME, team_partitions
from copilot_assets.sync import (
    NIGHTLY_WINDOW_DAYS,
    RUN_TRIGGER_TAG,
    TEAM_TAG,
    counts_toward_strikes,
    failed_team_days,
)
from copilot_assets.team_health import apply_event
from resources.app_store import StoreResource
from resources.flags import COPILOT_FLAG
from resources.github import GitHubResource
from resources.github_errors import GitHubError
from resources.validation import InvalidInput, validate_slug

NIGHTLY_CRON = "45 4 * * *"
MAX_TEAMS_PER_RUN = 50  # design §10: a run carries many team-days; a few runs cover everyone
ONBOARDING_DAYS = 28
ONBOARDING_TAG = "copilot/onboarding"
ONBOARDING_STEP_TAG = "copilot/onboarding_step"
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
INSIGHTS_KEY = dg.AssetKey("copilot_insights")
SYNC_ASSETS = [copilot_usage, copilot_user_usage, copilot_seats]
SYNC_KEYS = [a.key for a in SYNC_ASSETS]

copilot_sync_job = dg.define_asset_job(
    "copilot_sync_job",
    selection=dg.AssetSelection.assets(*SYNC_ASSETS),
    description="Copilot usage, per-user usage and seats for a range of team-days.",
    # One process per run: the three steps are CPU-bound and run one after another anyway on a small
    # host; the multiprocess executor would start three more processes (each loading the definitions)
    # per run. Concurrency toward GitHub comes from the team threads inside a step and the github_api
    # pool, which the in-process executor also honours (issue 9, docs/benchmarks.md).
    executor_def=dg.in_process_executor,
)


# ----------------------------------------------------------------------------- pure helpers
def consecutive_chunks(ordered: Sequence[str], eligible: set[str], max_per_chunk: int) -> list[list[str]]:
    """Split ``ordered`` (the dynamic partition order) into runs of consecutive eligible teams.

    A range run covers every key between its start and end, so an ineligible team must never sit
    inside a chunk (it would be recorded as failed when the run fails; dagster-notes §11.3)."""
    chunks: list[list[str]] = []
    current: list[str] = []
    for slug in ordered:
        if slug in eligible:
            current.append(slug)
            if len(current) >= max_per_chunk:
                chunks.append(current)
                current = []
        elif current:
            chunks.append(current)
            current = []
    if current:
        chunks.append(current)
    return chunks


def range_run_request(teams: list[str], start: date, end: date, *, run_key: str, trigger: str,
                      extra_tags: dict[str, str] | None = None,
                      asset_keys: Sequence[dg.AssetKey] = tuple(SYNC_KEYS)) -> dg.RunRequest:
    tags = {
        RANGE_START: f"{start.isoformat()}|{teams[0]}",
        RANGE_END: f"{end.isoformat()}|{teams[-1]}",
        RUN_TRIGGER_TAG: trigger,
        "copilot/dates": f"{start.isoformat()}..{end.isoformat()}",
        "copilot/teams": f"{teams[0]}..{teams[-1]}" if len(teams) > 1 else teams[0],
    }
    if len(teams) == 1:
        tags[TEAM_TAG] = teams[0]
    tags.update(extra_tags or {})
    return dg.RunRequest(run_key=run_key, asset_selection=list(asset_keys), tags=tags)


def teams_of_run(tags: dict[str, str]) -> list[str]:
    """Teams a run targeted, from per-dimension tags or range tags (range runs lack the former)."""
    if tags.get("dagster/partition/team"):
        return [tags["dagster/partition/team"]]
    if tags.get(TEAM_TAG):
        return [tags[TEAM_TAG]]
    return []


# ----------------------------------------------------------------------------- nightly schedule
@dg.schedule(
    name="copilot_nightly_sync",
    cron_schedule=NIGHTLY_CRON,
    execution_timezone="UTC",
    job=copilot_sync_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="04:45 UTC: re-pull the last 3 days for every connected team with the flag on, "
    "in runs that each carry a range of consecutive eligible teams.",
)
def copilot_nightly_sync(context: dg.ScheduleEvaluationContext, store: StoreResource):
    s = store.get()
    global_value, _ = s.flag_values(COPILOT_FLAG)
    if not global_value:
        return dg.SkipReason(f"{COPILOT_FLAG} is {'off' if global_value is False else 'not set'} globally: "
                             "nothing syncs (copilot-flow flags set integration_copilot_enabled on)")
    tick = context.scheduled_execution_time.astimezone(UTC)
    end = tick.date() - timedelta(days=1)
    start = tick.date() - timedelta(days=NIGHTLY_WINDOW_DAYS)
    teams = s.list_teams()
    eligible: set[str] = set()
    skipped: dict[str, str] = {}
    for t in teams:
        if t.copilot_status != "connected":
            skipped[t.slug] = f"status {t.copilot_status}"
            continue
        decision = s.flag_for_team(COPILOT_FLAG, t.id)
        if not decision.enabled:
            skipped[t.slug] = decision.reason
            continue
        eligible.add(t.slug)
    ordered = context.instance.get_dynamic_partitions(TEAMS_PARTITION_NAME) if context.instance else []
    not_partitioned = sorted(eligible - set(ordered))
    for slug in not_partitioned:
        skipped[slug] = "no teams partition yet (copilot_teams_sensor adds it)"
    chunks = consecutive_chunks(ordered, eligible, MAX_TEAMS_PER_RUN)
    context.log.info(
        f"nightly {tick.date()}: {len(eligible) - len(not_partitioned)} team(s) in {len(chunks)} run(s) "
        f"for {start}..{end}; {len(skipped)} skipped"
    )
    for slug, why in sorted(skipped.items()):
        context.log.info(f"  skipped {slug}: {why}")
    if not chunks:
        return dg.SkipReason(f"no connected team with {COPILOT_FLAG} on ({len(skipped)} skipped)")
    requests = [
        range_run_request(chunk, start, end, trigger="nightly",
                          run_key=f"nightly:{tick.date().isoformat()}:{chunk[0]}..{chunk[-1]}")
        for chunk in chunks
    ]
    # gaps in the 28 days before the window (an outage, a 429 storm): one gap-fill run per team
    gap_end = start - timedelta(days=1)
    gap_start = end - timedelta(days=GAP_LOOKBACK_DAYS - 1)
    by_id = {t.id: t.slug for t in teams if t.slug in eligible and t.slug in set(ordered)}
    with s.engine.connect() as conn:
        gaps = missing_days(conn, by_id, gap_start, gap_end)
    for team_id, days in sorted(gaps.items(), key=lambda kv: by_id[kv[0]]):
        slug = by_id[team_id]
        context.log.info(f"  gap fill {slug}: {len(days)} missing day(s) {days[0]}..{days[-1]}")
        requests.append(range_run_request(
            [slug], days[0], days[-1], trigger="gapfill", asset_keys=(copilot_usage.key, copilot_user_usage.key),
            run_key=f"gapfill:{tick.date().isoformat()}:{slug}"))
    return requests


# ----------------------------------------------------------------------------- teams partitions
@dg.sensor(
    name="copilot_teams_sensor",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a `teams` partition for every team in the app store (never deletes history).",
)
def copilot_teams_sensor(context: dg.SensorEvaluationContext, store: StoreResource):
    existing = set(context.instance.get_dynamic_partitions(TEAMS_PARTITION_NAME))
    new: list[str] = []
    for t in store.get().list_teams():
        if t.slug in existing:
            continue
        try:
            new.append(validate_slug(t.slug))
        except InvalidInput as exc:
            context.log.error(f"team {t.slug!r} cannot be a partition key: {exc}")
    if not new:
        return dg.SkipReason(f"all {len(existing)} team partition(s) present")
    context.log.info(f"adding team partitions: {', '.join(new)}")
    return dg.SensorResult(dynamic_partitions_requests=[team_partitions.build_add_request(new)])


# ----------------------------------------------------------------------------- failures → status
SEVERITY = {"token_revoked": 3, "access_denied": 2}


def _worst(records: list[dict[str, Any]]) -> dict[str, Any]:
    return max(records, key=lambda r: SEVERITY.get(str(r.get("error_kind")), 1))


def apply_run_failure(store, run: dg.DagsterRun, step_metadata: list[dict[str, Any]], *,
                      run_started_at: datetime, log: Any = None) -> dict[str, str]:
    """Apply the status machine once per team for a failed run. Returns {team: what happened}."""
    by_team: dict[str, list[dict[str, Any]]] = {}
    for md in step_metadata:
        for rec in failed_team_days(md):
            by_team.setdefault(str(rec["team"]), []).append(rec)
    if not by_team:
        for slug in teams_of_run(run.tags):
            by_team[slug] = [{"team": slug, "day": None, "error_kind": "run_failure", "http_status": 0}]
    trigger = run.tags.get(RUN_TRIGGER_TAG)
    outcome: dict[str, str] = {}
    for slug, recs in sorted(by_team.items()):
        try:
            team = store.get_team(slug)
        except InvalidInput:
            outcome[slug] = "unknown team"
            continue
        worst = _worst(recs)
        kind = str(worst.get("error_kind"))
        if kind in ("unknown_team", "team_disabled", "no_credential"):
            outcome[slug] = f"not a GitHub failure ({kind})"
            continue
        if store.run_outcome_applied(run.run_id, team.id) and kind not in SEVERITY:
            outcome[slug] = "synced in this run; transient failure not counted"
            continue
        days = [date.fromisoformat(r["day"]) for r in recs if r.get("day")]
        event = sm.SyncFailed(
            at=datetime.now(UTC), run_started_at=run_started_at, error_kind=kind,
            http_status=int(worst.get("http_status") or 0) or None, reason=worst.get("reason"),
            counts_toward_strikes=counts_toward_strikes(trigger, days, run_started_at),
        )
        tr = apply_event(store, team, event, actor="copilot_failure_sensor", run_id=run.run_id,
                         outcome="failure", outcome_key=f"{run.run_id}:failed",
                         detail=f"{kind} on {len(recs)} team-day(s)")
        outcome[slug] = "already applied" if tr is None else f"{tr.before.status} -> {tr.after.status} " \
            f"(failures {tr.before.consecutive_failures} -> {tr.after.consecutive_failures})"
        if log:
            log.info(f"team {slug}: {outcome[slug]}")
    return outcome


@dg.run_failure_sensor(
    name="copilot_failure_sensor",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Applies the team status machine for every failed run that touched Copilot assets "
    "(UI, backfill, schedule, automation), exactly once per run and team.",
)
def copilot_failure_sensor(context: dg.RunFailureSensorContext, store: StoreResource):
    run = context.dagster_run
    selection = set(run.asset_selection or [])
    if selection and not selection & set(SYNC_KEYS):
        return
    metadata = []
    for ev in context.get_step_failure_events():
        ufd = ev.step_failure_data.user_failure_data if ev.step_failure_data else None
        if ufd is not None and ufd.metadata:
            metadata.append(dict(ufd.metadata))
    record = context.instance.get_run_record_by_id(run.run_id)
    started = datetime.fromtimestamp(record.start_time, UTC) if record and record.start_time else datetime.now(UTC)
    apply_run_failure(store.get(), run, metadata, run_started_at=started, log=context.log)


# ----------------------------------------------------------------------------- onboarding
ONBOARDING_CYCLE_TAG = "copilot/onboarding_cycle"


def _cycle(team) -> str:
    return team.onboarding_started_at.isoformat() if team.onboarding_started_at else "none"


def _latest_runs(instance: dg.DagsterInstance, teams: Sequence[Any], chunk: int = 200) -> dict[tuple, dg.DagsterRun]:
    """The newest run of each team's current onboarding step and cycle (runs of an earlier cycle or step
    don't count), keyed by (slug, step, cycle): one runs query per ``chunk`` teams, not one per team
    (1,000 teams connecting at once: issue 9, docs/benchmarks.md)."""
    wanted = {(t.slug, t.onboarding_pipeline_status, _cycle(t)) for t in teams}
    latest: dict[tuple, dg.DagsterRun] = {}
    slugs = sorted({w[0] for w in wanted})
    for i in range(0, len(slugs), chunk):
        runs = instance.get_runs(filters=dg.RunsFilter(tags={ONBOARDING_TAG: slugs[i:i + chunk]}))
        for run in runs:  # newest first
            key = (run.tags.get(ONBOARDING_TAG), run.tags.get(ONBOARDING_STEP_TAG), run.tags.get(ONBOARDING_CYCLE_TAG))
            if key in wanted and key not in latest:
                latest[key] = run
    return latest


@dg.sensor(
    name="copilot_onboarding_sensor",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    target=dg.AssetSelection.assets(*SYNC_KEYS, INSIGHTS_KEY),
    description="Drives onboarding: syncing_copilot (28-day sync) → llm_processing (insights) → complete. "
    "A team that is not connected skips straight to llm_processing; a failed sync stops at `failed`.",
)
def copilot_onboarding_sensor(context: dg.SensorEvaluationContext, store: StoreResource):
    s = store.get()
    requests: list[dg.RunRequest] = []
    today = datetime.now(UTC).date()
    latest = today - timedelta(days=1)
    partitions = set(context.instance.get_dynamic_partitions(TEAMS_PARTITION_NAME))
    moved: list[str] = []
    onboarding = [t for t in s.list_teams()
                  if t.onboarding_pipeline_status in ("syncing_copilot", "llm_processing")
                  and t.slug in partitions]  # a team not yet a partition: copilot_teams_sensor adds it first
    latest_runs = _latest_runs(context.instance, onboarding)
    for t in onboarding:
        step = t.onboarding_pipeline_status
        run = latest_runs.get((t.slug, step, _cycle(t)))
        if run is not None and run.status in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED):
            s.set_onboarding(t.id, "failed")
            moved.append(f"{t.slug}: {step} run {run.run_id[:8]} {run.status.value} → failed "
                         f"(team status {t.copilot_status}, decided by the status machine)")
            continue
        if run is not None and run.status == dg.DagsterRunStatus.SUCCESS:
            nxt = "llm_processing" if step == "syncing_copilot" else "complete"
            s.set_onboarding(t.id, nxt)
            moved.append(f"{t.slug}: {step} done → {nxt}")
            continue
        if run is not None:
            continue  # queued or in progress
        if t.copilot_status != "connected":
            nxt = "llm_processing" if step == "syncing_copilot" else "complete"
            s.set_onboarding(t.id, nxt)
            moved.append(f"{t.slug}: not connected ({t.copilot_status}); {step} skipped → {nxt}")
            continue
        if step == "syncing_copilot" and not (flag := s.flag_for_team(COPILOT_FLAG, t.id)).enabled:
            moved.append(f"{t.slug}: waiting in syncing_copilot, nothing syncs ({COPILOT_FLAG}: {flag.reason})")
            continue  # design §9.1: with the flag off nothing syncs; onboarding resumes when it is on
        tags = {ONBOARDING_TAG: t.slug, ONBOARDING_STEP_TAG: step, ONBOARDING_CYCLE_TAG: _cycle(t)}
        if step == "syncing_copilot":
            requests.append(range_run_request(
                [t.slug], today - timedelta(days=ONBOARDING_DAYS), latest, trigger="onboarding",
                run_key=f"onboarding:{t.slug}:{step}:{_cycle(t)}", extra_tags=tags))
        else:
            requests.append(dg.RunRequest(
                run_key=f"onboarding:{t.slug}:{step}:{_cycle(t)}", asset_selection=[INSIGHTS_KEY],
                partition_key=dg.MultiPartitionKey({"date": latest.isoformat(), "team": t.slug}),
                tags={**tags, RUN_TRIGGER_TAG: "onboarding", TEAM_TAG: t.slug}))
    for line in moved:
        context.log.info(line)
    if not requests:
        return dg.SkipReason("; ".join(moved) or "no team is onboarding")
    return dg.SensorResult(run_requests=requests)


# ----------------------------------------------------------------------------- licence probe
@dg.sensor(
    name="copilot_license_probe",
    minimum_interval_seconds=6 * 3600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Re-checks teams in insufficient_licenses through the billing endpoint and returns them "
    "to connected when they have at least 5 seats and the reports are readable.",
)
def copilot_license_probe(context: dg.SensorEvaluationContext, store: StoreResource, github: GitHubResource):
    s = store.get()
    lines = []
    for t in s.list_teams(status="insufficient_licenses"):
        token = s.active_token(t.id)
        if token is None:
            lines.append(f"{t.slug}: no active credential")
            continue
        seats, readable = probe_team(github, t, token.reveal())
        tr = apply_event(s, t, sm.LicenseProbe(at=datetime.now(UTC), seats=seats, reports_readable=readable),
                         actor="copilot_license_probe")
        lines.append(f"{t.slug}: {seats} seats, reports {'readable' if readable else 'not readable'} → "
                     f"{tr.after.status if tr else t.copilot_status}")
    for line in lines:
        context.log.info(line)
    return dg.SkipReason("; ".join(lines) or "no team in insufficient_licenses")


def probe_team(github: GitHubResource, team, token: str) -> tuple[int, bool]:
    day = datetime.now(UTC).date() - timedelta(days=2)
    with github.client(team=team.slug, org=team.github_org, token=token) as client:
        try:
            billing = client.billing()
            seats = int((billing.get("seat_breakdown") or {}).get("total") or 0)
        except GitHubError:
            return 0, False
        try:
            client.report_day("organization-1-day", day)
            return seats, True
        except GitHubError:
            return seats, False


COPILOT_SCHEDULES = [copilot_nightly_sync]
COPILOT_SENSORS = [copilot_teams_sensor, copilot_failure_sensor, copilot_onboarding_sensor, copilot_license_probe]
COPILOT_JOBS = [copilot_sync_job]
