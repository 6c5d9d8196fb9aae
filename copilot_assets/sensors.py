"""Sensors: team partitions and credential health, onboarding, the license probe.

Every status change goes through ``team_health.apply_event`` (the pure status machine + one transaction).
The master switch means no GitHub calls: only the license probe talks to GitHub, and never for a team with
``integration_copilot_enabled`` off.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from copilot_assets import status as sm
from copilot_assets.failure_sensor import run_failures
from copilot_assets.jobs import INSIGHTS_KEY, SYNC_KEYS, range_run_request
from copilot_assets.metrics import WINDOW_DAYS
from copilot_assets.outcomes import RUN_TRIGGER_TAG, TEAM_TAG
from copilot_assets.partitions import TEAMS_PARTITION_NAME, team_day_key, team_partitions
from copilot_assets.team_health import apply_event
from resources.app_store import StoreResource
from resources.flags import COPILOT_FLAG
from resources.github import ORG_1_DAY, GitHubResource
from resources.github_errors import CopilotAccessDenied, GitHubError, TokenRevoked
from resources.secrets import CredentialUndecryptable
from resources.statuses import (
    CONNECTED,
    INSUFFICIENT_LICENSES,
    REASON_APP_PERMISSION_MISSING,
    REASON_CREDENTIAL_UNDECRYPTABLE,
    TOKEN_REVOKED,
)
from resources.store import Store, Team
from resources.validation import InvalidInput, validate_slug

ONBOARDING_DAYS = WINDOW_DAYS
ONBOARDING_TAG = "copilot/onboarding"
ONBOARDING_STEP_TAG = "copilot/onboarding_step"
ONBOARDING_CYCLE_TAG = "copilot/onboarding_cycle"
PROBE_INTERVAL_SECONDS = 6 * 3600
INTERNAL_KINDS = ("internal_error", "run_failure", "unknown_team")


# ----------------------------------------------------------------------------- teams partitions + credentials
def credential_health(store: Store) -> list[str]:
    """A connected team whose credential cannot be used (missing, or undecryptable with the configured key)
    needs reconnection: ``token_revoked`` with that reason, and it is not scheduled. One whose credential
    decrypts again (the key was set back) returns to ``connected``. Returns one line per change."""
    lines: list[str] = []
    now = datetime.now(UTC)
    for t in store.list_teams():
        if t.copilot_status == CONNECTED:
            problem = store.credential_problem(t.id)
            if problem is not None:
                tr = apply_event(store, t, sm.CredentialUnusable(at=now, reason=problem), actor="copilot_teams_sensor")
                if tr is not None and tr.changed:
                    lines.append(f"team {t.slug}: connected -> token_revoked ({problem})")
        elif t.copilot_status == TOKEN_REVOKED and t.copilot_status_reason == REASON_CREDENTIAL_UNDECRYPTABLE:
            if store.credential_problem(t.id) is None:
                tr = apply_event(store, t, sm.CredentialUsable(at=now), actor="copilot_teams_sensor")
                if tr is not None and tr.changed:
                    lines.append(f"team {t.slug}: credential decrypts again -> connected")
    return lines


@dg.sensor(
    name="copilot_teams_sensor",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a `teams` partition for every team in the app store (never deletes history) and marks "
    "connected teams whose stored credential cannot be used (missing, undecryptable) as needing reconnection.",
)
def copilot_teams_sensor(context: dg.SensorEvaluationContext, store: StoreResource):
    s = store.get()
    for line in credential_health(s):
        context.log.warning(line)
    existing = set(context.instance.get_dynamic_partitions(TEAMS_PARTITION_NAME))
    new: list[str] = []
    for t in s.list_teams():
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


# ----------------------------------------------------------------------------- onboarding
def _cycle(team: Any) -> str:
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


def onboarding_error(instance: dg.DagsterInstance, run: dg.DagsterRun) -> str | None:
    """Why a failed onboarding run must stop onboarding at ``failed`` (an internal error, with its
    message), or None when GitHub answered for the team (401, 403, limits, outages): the status machine
    has recorded why, and onboarding moves on without Copilot data."""
    if run.status == dg.DagsterRunStatus.CANCELED:
        return f"run {run.run_id[:8]} was canceled"
    failures = run_failures(instance, run)
    # a credential that is gone (revoked by an earlier step's 401) or a switched-off flag is the team's state,
    # which its status records; only what is not GitHub's answer nor the team's state stops onboarding
    internal = [f for f in failures if f.get("error_kind") in INTERNAL_KINDS]
    if internal or not failures:
        first = internal[0] if internal else {}
        return (f"run {run.run_id[:8]} failed: {first.get('error_kind', 'run_failure')}: "
                f"{first.get('message') or 'no typed outcome (see the run in the Dagster UI)'}")[:2000]
    return None


@dg.sensor(
    name="copilot_onboarding_sensor",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    target=dg.AssetSelection.assets(*SYNC_KEYS, INSIGHTS_KEY),
    description="Drives onboarding: syncing_copilot (28-day sync) → llm_processing (insights) → complete. "
    "A team that is not connected, or whose sync GitHub refused (401, 403), moves on to llm_processing "
    "without Copilot data (its status says why); an internal error stops at `failed` with the error.",
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
        nxt = "llm_processing" if step == "syncing_copilot" else "complete"
        run = latest_runs.get((t.slug, step, _cycle(t)))
        if run is not None and run.status in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED):
            error = onboarding_error(context.instance, run) if step == "syncing_copilot" else \
                f"insights run {run.run_id[:8]} {run.status.value.lower()}"
            if error is not None:
                s.set_onboarding(t.id, "failed", error=error)
                moved.append(f"{t.slug}: {step} → failed ({error})")
                continue
            now = s.get_team(t.slug)
            s.set_onboarding(t.id, nxt)
            moved.append(f"{t.slug}: {step} run {run.run_id[:8]} failed on GitHub's answer; team status "
                         f"{now.copilot_status}" + (f" ({now.copilot_status_reason})" if now.copilot_status_reason
                                                    else "") + f" → {nxt} without Copilot data")
            continue
        if run is not None and run.status == dg.DagsterRunStatus.SUCCESS:
            s.set_onboarding(t.id, nxt)
            moved.append(f"{t.slug}: {step} done → {nxt}")
            continue
        if run is not None:
            continue  # queued or in progress
        tags = {ONBOARDING_TAG: t.slug, ONBOARDING_STEP_TAG: step, ONBOARDING_CYCLE_TAG: _cycle(t)}
        if step == "syncing_copilot":
            if t.copilot_status != CONNECTED:
                s.set_onboarding(t.id, nxt)
                moved.append(f"{t.slug}: not connected ({t.copilot_status}"
                             + (f", {t.copilot_status_reason}" if t.copilot_status_reason else "")
                             + f"); {step} skipped → {nxt}")
                continue
            if not (flag := s.flag_for_team(COPILOT_FLAG, t.id)).enabled:
                moved.append(f"{t.slug}: waiting in syncing_copilot, nothing syncs ({COPILOT_FLAG}: {flag.reason})")
                continue  # decision 1: with the flag off nothing syncs; onboarding resumes when it is on
            requests.append(range_run_request(
                [t.slug], today - timedelta(days=ONBOARDING_DAYS), latest, trigger="onboarding",
                run_key=f"onboarding:{t.slug}:{step}:{_cycle(t)}", extra_tags=tags))
        else:  # llm_processing: an insight from what is there (a status insight when Copilot is not connected)
            requests.append(dg.RunRequest(
                run_key=f"onboarding:{t.slug}:{step}:{_cycle(t)}", asset_selection=[INSIGHTS_KEY],
                partition_key=team_day_key(t.slug, latest),
                tags={**tags, RUN_TRIGGER_TAG: "onboarding", TEAM_TAG: t.slug}))
    for line in moved:
        context.log.info(line)
    if not requests:
        return dg.SkipReason("; ".join(moved) or "no team is onboarding")
    return dg.SensorResult(run_requests=requests)


# ----------------------------------------------------------------------------- license probe
def probe_team(github: GitHubResource, store: Store, team: Team) -> str:
    """One report call for a team in ``insufficient_licenses``: 200 or 204 ("no report yet") → connected,
    whatever the seat count (a 404 is checked against billing, which names a missing subscription); a 403
    for another cause → the reason follows; a 401 → the status machine's revoked path for the credential
    used. Returns what happened."""
    try:
        credential = store.active_credential(team.id)
    except CredentialUndecryptable:
        return "stored token cannot be decrypted (COPILOT_FLOW_SECRET_KEY)"
    if credential is None:
        return "no active credential"
    now = datetime.now(UTC)
    day = now.date() - timedelta(days=2)
    event: Any
    with github.client_for(credential, team=team.slug, org=team.github_org) as client:
        try:
            report = client.report_day(ORG_1_DAY, day)
            if (not report and report.why == "http_404") or team.copilot_status_reason == REASON_APP_PERMISSION_MISSING:
                # a 404 is "no report yet" for a day — or an org without Copilot, whose reports are all 404:
                # the billing endpoint tells which (it names a missing subscription). A GitHub App that lacked
                # a permission needs both (reports: Copilot metrics; billing and seats: Copilot Business).
                client.billing()
            event = sm.LicenseProbe(at=now, reports_readable=True)
        except CopilotAccessDenied as exc:
            event = sm.LicenseProbe(at=now, reports_readable=False, denied_reason=exc.reason)
        except TokenRevoked as exc:
            event = sm.SyncFailed(at=now, run_started_at=now, error_kind=exc.error_kind, http_status=401,
                                  reason=exc.reason, credential_id=credential.id)
        except GitHubError as exc:
            return f"no answer ({exc.error_kind}); unchanged"
    tr = apply_event(store, team, event, actor="copilot_license_probe")
    if tr is None or not tr.changed:
        return f"unchanged ({team.copilot_status_reason})"
    return f"{tr.before.status} ({tr.before.reason}) -> {tr.after.status}" + (
        f" ({tr.after.reason})" if tr.after.reason else "")


@dg.sensor(
    name="copilot_license_probe",
    minimum_interval_seconds=PROBE_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Every 6 h, one report call per team in insufficient_licenses (with integration_copilot_enabled "
    "on): 200 or 204 returns it to connected, whatever its seat count; another 403 cause updates the reason.",
)
def copilot_license_probe(context: dg.SensorEvaluationContext, store: StoreResource, github: GitHubResource):
    s = store.get()
    lines = []
    for t in s.list_teams(status=INSUFFICIENT_LICENSES):
        flag = s.flag_for_team(COPILOT_FLAG, t.id)
        if not flag.enabled:  # the master switch means no GitHub calls
            lines.append(f"{t.slug}: not probed ({COPILOT_FLAG}: {flag.reason})")
            continue
        lines.append(f"{t.slug}: {probe_team(github, s, t)}")
    for line in lines:
        context.log.info(line)
    return dg.SkipReason("; ".join(lines) or "no team in insufficient_licenses")


COPILOT_SENSORS = [copilot_teams_sensor, copilot_onboarding_sensor, copilot_license_probe]

__all__ = [
    "COPILOT_SENSORS",
    "ONBOARDING_CYCLE_TAG",
    "ONBOARDING_DAYS",
    "ONBOARDING_STEP_TAG",
    "ONBOARDING_TAG",
    "copilot_license_probe",
    "copilot_onboarding_sensor",
    "copilot_teams_sensor",
    "credential_health",
    "onboarding_error",
    "probe_team",
]
