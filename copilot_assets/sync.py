"""The range-aware sync engine shared by the Copilot assets (docs/architecture.md decision 13).

One code path serves one team-day (a UI click), a date range for one team (a backfill) and many teams
(the nightly): team-days are grouped per team, teams run concurrently (bounded), each team's days run
in order with ONE GitHub client (its token, or its GitHub App's key, decrypted at call time). Every
team-day that succeeds is logged as its own ``AssetMaterialization``; the run ends with a ``Failure`` whose
metadata lists each failed team-day with its typed error, so Dagster marks exactly those partitions failed
and ``copilot_failure_sensor`` applies the status machine per team.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import dagster as dg

from copilot_assets import status as sm
from copilot_assets.metadata import failure_lines
from copilot_assets.outcomes import apply_failures
from copilot_assets.partitions import TeamDay, team_days_of
from copilot_assets.team_health import apply_event
from copilot_assets.team_writes import PendingWrites
from resources.cost import SeatPrices
from resources.flags import COPILOT_FLAG
from resources.github import GitHubClient, GitHubResource
from resources.github_errors import FATAL_KINDS, GitHubError
from resources.secrets import CredentialUndecryptable
from resources.statuses import DISABLED, TOKEN_REVOKED
from resources.store import ActiveCredential, Store, Team, TeamDayWrite, UnknownTeam


class TeamNotSyncable(Exception):
    """A team whose team-days cannot be attempted. ``skip``: not attempted on purpose and not a failure
    (the master switch is off for it); otherwise the team-days fail with ``error_kind``."""

    def __init__(self, error_kind: str, message: str, *, skip: bool = False) -> None:
        super().__init__(message)
        self.error_kind = error_kind
        self.message = message
        self.skip = skip


@dataclass
class DayResult:
    team_day: TeamDay
    ok: bool = False
    no_report: bool = False
    credential_id: int | None = None
    skipped: str | None = None  # not attempted on purpose (e.g. seats for an old date)
    rows: dict[str, int] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    github_calls: int = 0
    error: Exception | None = None
    write: TeamDayWrite | None = None  # fetched, not yet written: the engine writes a team's days together

    def failure_record(self) -> dict[str, Any]:
        err = self.error
        rec: dict[str, Any] = {"team": self.team_day.team, "day": self.team_day.day.isoformat()}
        if self.credential_id is not None:
            rec["credential_id"] = self.credential_id  # an id, never the token: a failure revokes only it
        if isinstance(err, GitHubError):
            md = err.to_metadata()
            rec.update(error_kind=md["error_kind"], http_status=md["http_status"], message=str(err))
            if "reason" in md:
                rec["reason"] = md["reason"]
        elif isinstance(err, TeamNotSyncable):
            rec.update(error_kind=err.error_kind, http_status=0, message=err.message)
        else:
            rec.update(error_kind="internal_error", http_status=0,
                       message=f"{type(err).__name__}: {err}"[:500])
        return rec


@dataclass
class TeamSync:
    """What a per-day fetcher gets: the team, its client and a per-run cache (e.g. 28-day reports)."""

    team: Team
    client: GitHubClient
    days: list[date]
    store: Store
    run_id: str
    credential_id: int | None = None
    prices: SeatPrices | None = None  # seat prices per plan (the seats asset's CostResource)
    cache: dict[str, Any] = field(default_factory=dict)
    cleanups: list[Callable[[], None]] = field(default_factory=list)  # run when the team's sync ends


DayFetcher = Callable[[TeamSync, date], DayResult]


def _resolve_team(store: Store, slug: str) -> tuple[Team, ActiveCredential]:
    """The team and the credential a sync uses, or why its team-days cannot be attempted."""
    try:
        team = store.get_team(slug)
    except UnknownTeam as exc:
        raise TeamNotSyncable("unknown_team", f"team {slug!r} is not in the app store") from exc
    if team.copilot_status == DISABLED:
        raise TeamNotSyncable("team_disabled", f"team {slug!r} is disabled: connect it first "
                              f"(`copilot-flow teams connect {slug} --token-env VAR`)")
    flag = store.flag_for_team(COPILOT_FLAG, team.id)
    if not flag.enabled:  # the master switch means no GitHub calls (docs/architecture.md decision 1)
        raise TeamNotSyncable("flag_off", f"{COPILOT_FLAG} is off for team {slug!r} ({flag.reason}): "
                              "nothing syncs", skip=True)
    try:
        credential = store.active_credential(team.id)
    except CredentialUndecryptable as exc:
        raise TeamNotSyncable("credential_undecryptable", f"team {slug!r}: {exc}") from None
    if credential is None:
        if team.copilot_status == TOKEN_REVOKED:  # e.g. revoked by an earlier step of this very run (a 401)
            raise TeamNotSyncable("credential_revoked", f"team {slug!r}: its credential was revoked (status "
                                  f"token_revoked, {team.copilot_status_reason}): reconnect with "
                                  f"`copilot-flow teams connect {slug} --token-env VAR`")
        raise TeamNotSyncable("credential_missing", f"team {slug!r} has no active credential "
                              f"(status {team.copilot_status}): reconnect with "
                              f"`copilot-flow teams connect {slug} --token-env VAR`")
    return team, credential


def sync_team_days(
    context: dg.AssetExecutionContext,
    *,
    store: Store,
    github: GitHubResource,
    fetch_day: DayFetcher,
    what: str,
    max_parallel_teams: int = 8,
    skip_done: set[str] | None = None,
    prices: SeatPrices | None = None,
) -> list[DayResult]:
    """Run ``fetch_day`` for every team-day of the run; never raises for one team-day's failure."""
    by_team: dict[str, list[date]] = defaultdict(list)
    for td in team_days_of(context):
        if skip_done and str(td.key) in skip_done:
            continue
        by_team[td.team].append(td.day)
    total = sum(len(d) for d in by_team.values())
    context.log.info(f"{what}: {total} team-day(s) across {len(by_team)} team(s)")
    progress = _Progress(context, what, total, len(by_team))

    def run_team(slug: str, days: list[date]) -> list[DayResult]:
        try:
            team, credential = _resolve_team(store, slug)
        except TeamNotSyncable as exc:
            context.log.warning(f"{what} {slug}: {len(days)} team-day(s) not attempted: {exc.message}")
            results = [DayResult(TeamDay(d, slug), skipped=exc.message) if exc.skip
                       else DayResult(TeamDay(d, slug), error=exc) for d in days]
            progress.team_done(results)
            return results
        results = []
        with github.client_for(credential, team=slug, org=team.github_org, log=context.log.info) as client:
            sync = TeamSync(team=team, client=client, days=days, store=store, run_id=context.run.run_id,
                            credential_id=credential.id, prices=prices)
            try:
                fatal: GitHubError | None = None

                def _report(result: DayResult) -> None:
                    if not result.ok and not result.skipped:
                        context.log.warning(f"{what} {slug} {result.team_day.day}: FAILED: {result.error}")
                    progress.day_done(result)

                pending = PendingWrites(store, team.id, context.run.run_id, on_done=_report)

                for day in days:
                    before = client.calls.total
                    if fatal is not None:  # a dead token or denied access: don't hammer GitHub with it
                        results.append(DayResult(TeamDay(day, slug), error=fatal, credential_id=credential.id))
                        progress.day_done(results[-1])
                        continue
                    try:
                        result = fetch_day(sync, day)
                    except Exception as exc:  # typed GitHub errors and bad data end the team-day, not the run
                        result = DayResult(TeamDay(day, slug), error=exc)
                        if isinstance(exc, GitHubError) and exc.error_kind in FATAL_KINDS:
                            fatal = exc
                    result.github_calls = client.calls.total - before
                    result.credential_id = credential.id
                    results.append(result)
                    if result.write is not None:
                        pending.add(result)  # reported once written
                    else:
                        _report(result)
                pending.flush()
                if fatal is not None and (later := sum(1 for r in results if r.error is fatal) - 1):
                    context.log.warning(f"{what} {slug}: {later} later team-day(s) not attempted "
                                        f"after {fatal.error_kind}")
            finally:
                for cleanup in sync.cleanups:  # e.g. the spooled 28-day report's temp files
                    cleanup()
        progress.team_done()
        return results

    workers = max(1, min(max_parallel_teams, len(by_team)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="team-sync") as pool:
        futures = [pool.submit(run_team, slug, days) for slug, days in sorted(by_team.items())]
        return [r for f in futures for r in f.result()]


class _Progress:
    """Progress lines of a sync step: about ten per step, not one per team-day.

    Each log line is an event in Dagster's event log (a database write, ≈ 10–30 ms of CPU across the
    worker and the database), and the per-team-day outcome is already in that team-day's
    materialization metadata; failures still get one warning line each."""

    def __init__(self, context: dg.AssetExecutionContext, what: str, total: int, teams: int) -> None:
        self.context, self.what, self.total, self.teams = context, what, total, teams
        self.every = max(25, -(-total // 10))
        self.lock = threading.Lock()
        self.days = self.ok = self.failed = self.skipped = self.calls = self.teams_done = 0

    def day_done(self, r: DayResult) -> None:
        with self.lock:
            self.days += 1
            self.ok += int(r.ok)
            self.skipped += int(bool(r.skipped))
            self.failed += int(not r.ok and not r.skipped)
            self.calls += r.github_calls
            if self.days % self.every == 0 and self.days < self.total:
                self._log()

    def team_done(self, unattempted: Sequence[DayResult] = ()) -> None:
        for r in unattempted:
            self.day_done(r)
        with self.lock:
            self.teams_done += 1

    def _log(self) -> None:
        self.context.log.info(
            f"{self.what}: {self.days}/{self.total} team-day(s) done ({self.teams_done}/{self.teams} team(s) "
            f"complete): {self.ok} ok, {self.failed} failed, {self.skipped} skipped, {self.calls} GitHub calls")


def already_materialized_in_run(context: dg.AssetExecutionContext) -> set[str]:
    """On a step retry, the team-days this run already materialized (so they are not fetched again)."""
    if context.retry_number == 0:
        return set()
    done: set[str] = set()
    records = context.instance.get_records_for_run(
        context.run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
    ).records
    for rec in records:
        mat = rec.event_log_entry.asset_materialization
        if mat and mat.asset_key == context.asset_key and mat.partition:
            done.add(mat.partition)
    return done


def run_started_at(context: dg.AssetExecutionContext) -> datetime:
    record = context.instance.get_run_record_by_id(context.run.run_id)
    ts = record.start_time if record and record.start_time else None
    return datetime.fromtimestamp(ts, UTC) if ts else datetime.now(UTC)


def run_created_at(context: dg.AssetExecutionContext) -> datetime:
    record = context.instance.get_run_record_by_id(context.run.run_id)
    return record.create_timestamp.astimezone(UTC) if record and record.create_timestamp else datetime.now(UTC)


def step_will_retry(context: dg.AssetExecutionContext, allow_retries: bool) -> bool:
    """Whether Dagster will run this step again after its Failure (the step's RetryPolicy)."""
    policy = getattr(context.op_def, "retry_policy", None)
    return bool(allow_retries and policy is not None and context.retry_number < policy.max_retries)


def finish(
    context: dg.AssetExecutionContext,
    results: list[DayResult],
    *,
    store: Store,
    what: str,
    apply_success: bool,
    check_results: Callable[[], list[dg.AssetCheckResult]] | None = None,
) -> Iterator[dg.AssetMaterialization | dg.AssetCheckResult]:
    """Yield one materialization per successful team-day, apply success per fully-synced team, then
    raise a ``Failure`` listing every failed team-day."""
    for r in results:
        if r.ok:
            md = {"team": r.team_day.team, "day": r.team_day.day.isoformat(), "github_calls": r.github_calls,
                  "no_report": r.no_report, **r.metadata}
            if r.rows:
                md["rows_written"] = sum(r.rows.values())
                md["rows_by_table"] = dg.MetadataValue.json(r.rows)
            yield dg.AssetMaterialization(asset_key=context.asset_key, partition=str(r.team_day.key),
                                          metadata=md)

    failed = [r for r in results if not r.ok and not r.skipped]
    if apply_success:
        started = run_started_at(context)
        run_id = context.run.run_id
        failed_teams = {r.team_day.team for r in failed}
        # a success is GitHub serving data: a team-day that only answered "no report yet" (204/404) is neither
        # a failure nor a success (an org without Copilot answers 404 to every report)
        served = {r.team_day.team for r in results if r.ok and not r.no_report}
        for slug in sorted(served - failed_teams):
            team = store.get_team(slug)
            if any(store.run_outcome_applied(f"{run_id}:{kind}", team.id) for kind in FATAL_KINDS):
                continue  # another step of this run was refused (401/403): that answer stands
            tr = apply_event(store, team, sm.SyncSucceeded(at=datetime.now(UTC), run_started_at=started),
                             actor=f"asset:{context.asset_key.to_user_string()}", run_id=context.run.run_id,
                             outcome="success")
            if tr is not None and tr.changed and tr.before.status != tr.after.status:
                context.log.info(f"team {slug}: {tr.before.status} -> {tr.after.status}")

    if check_results is not None:
        yield from check_results()
    ok = sum(1 for r in results if r.ok)
    no_report = sum(1 for r in results if r.ok and r.no_report)
    skipped: dict[str, int] = defaultdict(int)
    for r in results:
        if r.skipped:
            skipped[r.skipped] += 1
    context.log.info(f"{what}: {ok} team-day(s) materialized ({no_report} with no report from GitHub), "
                     f"{len(failed)} failed, {sum(skipped.values())} skipped, "
                     f"{sum(r.github_calls for r in results)} GitHub calls")
    for reason, n in sorted(skipped.items()):
        context.log.info(f"{what}: {n} team-day(s) not materialized: {reason}")
    if failed:
        records = [r.failure_record() for r in failed]
        first = records[0]
        allow_retries = all(
            isinstance(r.error, GitHubError) and r.error.retryable for r in failed
        )
        if not step_will_retry(context, allow_retries):
            # the step records its typed outcomes itself (exactly once per run and team), so none is lost
            # when no failure sensor is looking; copilot_failure_sensor is the backstop for crashed steps
            apply_failures(store, run_id=context.run.run_id, tags=dict(context.run.tags), records=records,
                           run_started_at=run_started_at(context), run_created_at=run_created_at(context),
                           actor=f"asset:{what}", log=context.log)
        raise dg.Failure(
            description=f"{what}: {len(failed)} of {len(results)} team-day(s) failed:\n{failure_lines(records)}",
            metadata={
                "failed_team_days": dg.MetadataValue.json(records),
                "failed_count": len(records),
                "error_kind": first["error_kind"],
                "http_status": int(first["http_status"] or 0),
                "team": first["team"],
                "teams": ",".join(sorted({x["team"] for x in records})),
            },
            allow_retries=allow_retries,
        )


def run_sync_asset(
    context: dg.AssetExecutionContext,
    store: Any,
    github: GitHubResource,
    fetch_day: Callable[[TeamSync, date, Any], DayResult],
    *,
    apply_success: bool = False,
    check_results: Callable[[Store, list[TeamDay]], list[dg.AssetCheckResult]] | None = None,
    prices: SeatPrices | None = None,
) -> Iterator[dg.AssetMaterialization | dg.AssetCheckResult]:
    """The body every Copilot sync asset shares: sync the run's team-days, then report them."""
    s = store.get()
    what = context.asset_key.to_user_string()
    results = sync_team_days(context, store=s, github=github, what=what,
                             fetch_day=lambda sync, day: fetch_day(sync, day, context.log),
                             skip_done=already_materialized_in_run(context), prices=prices)
    yield from finish(context, results, store=s, what=what, apply_success=apply_success,
                      check_results=(lambda: check_results(s, team_days_of(context))) if check_results else None)


__all__ = [
    "DayResult",
    "TeamNotSyncable",
    "TeamSync",
    "already_materialized_in_run",
    "finish",
    "run_created_at",
    "run_started_at",
    "run_sync_asset",
    "step_will_retry",
    "sync_team_days",
]
