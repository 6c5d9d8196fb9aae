"""The range-aware sync engine shared by the Copilot assets (design §10).

One code path serves one team-day (a UI click), a date range for one team (a backfill) and many teams
(the nightly): team-days are grouped per team, teams run concurrently (bounded), each team's days run
in order with ONE GitHub client (its token decrypted at call time). Every team-day that succeeds is
logged as its own ``AssetMaterialization``; the run ends with a ``Failure`` whose metadata lists each
failed team-day with its typed error, so Dagster marks exactly those partitions failed and
``copilot_failure_sensor`` applies the status machine per team.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg

from copilot_assets import status as sm
from copilot_assets.partitions import TeamDay, team_day_key, team_days_of
from copilot_assets.team_health import apply_event
from resources.github import GitHubClient, GitHubResource
from resources.github_errors import GitHubError
from resources.store import Store, Team

NIGHTLY_WINDOW_DAYS = 3  # design §9.4: the nightly on day D pulls D-3..D-1
FATAL_KINDS = ("token_revoked", "access_denied")  # the rest of the team's days are not attempted
RUN_TRIGGER_TAG = "copilot/trigger"  # nightly | onboarding | backfill | manual
TEAM_TAG = "copilot/team"


class TeamNotSyncable(Exception):
    """A team-day that cannot be attempted (unknown team, disabled, no credential)."""

    def __init__(self, error_kind: str, message: str) -> None:
        super().__init__(message)
        self.error_kind = error_kind
        self.message = message


@dataclass
class DayResult:
    team_day: TeamDay
    ok: bool = False
    no_report: bool = False
    skipped: str | None = None  # not attempted on purpose (e.g. seats for an old date)
    rows: dict[str, int] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    github_calls: int = 0
    error: Exception | None = None

    def failure_record(self) -> dict[str, Any]:
        err = self.error
        rec: dict[str, Any] = {"team": self.team_day.team, "day": self.team_day.day.isoformat()}
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
    cache: dict[str, Any] = field(default_factory=dict)


DayFetcher = Callable[[TeamSync, date], DayResult]


def _resolve_team(store: Store, slug: str) -> tuple[Team, str]:
    try:
        team = store.get_team(slug)
    except Exception as exc:
        raise TeamNotSyncable("unknown_team", f"team {slug!r} is not in the app store") from exc
    if team.copilot_status == "disabled":
        raise TeamNotSyncable("team_disabled", f"team {slug!r} is disabled: connect it first "
                              "(`copilot-flow teams connect`)")
    token = store.active_token(team.id)
    if token is None:
        raise TeamNotSyncable("no_credential", f"team {slug!r} has no active credential "
                              f"(status {team.copilot_status}): reconnect with a new token")
    return team, token.reveal()


def sync_team_days(
    context: dg.AssetExecutionContext,
    *,
    store: Store,
    github: GitHubResource,
    fetch_day: DayFetcher,
    what: str,
    max_parallel_teams: int = 8,
    skip_done: set[str] | None = None,
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
            team, token = _resolve_team(store, slug)
        except TeamNotSyncable as exc:
            context.log.warning(f"{what} {slug}: {len(days)} team-day(s) not attempted: {exc.message}")
            results = [DayResult(TeamDay(d, slug), error=exc) for d in days]
            progress.team_done(results)
            return results
        results = []
        with github.client(team=slug, org=team.github_org, token=token) as client:
            sync = TeamSync(team=team, client=client, days=days, store=store, run_id=context.run.run_id)
            fatal: GitHubError | None = None
            for day in days:
                before = client.calls.total
                if fatal is not None:  # a dead token or denied access: don't hammer GitHub with it
                    results.append(DayResult(TeamDay(day, slug), error=fatal))
                    progress.day_done(results[-1])
                    continue
                try:
                    result = fetch_day(sync, day)
                except Exception as exc:  # typed GitHub errors and bad data end the team-day, not the run
                    result = DayResult(TeamDay(day, slug), error=exc)
                    if isinstance(exc, GitHubError) and exc.error_kind in FATAL_KINDS:
                        fatal = exc
                result.github_calls = client.calls.total - before
                results.append(result)
                if not result.ok and not result.skipped:
                    context.log.warning(f"{what} {slug} {day}: FAILED: {result.error}")
                progress.day_done(result)
            if fatal is not None and (later := sum(1 for r in results if r.error is fatal) - 1):
                context.log.warning(f"{what} {slug}: {later} later team-day(s) not attempted "
                                    f"after {fatal.error_kind}")
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


def counts_toward_strikes(trigger: str | None, days: Sequence[date], run_start: datetime) -> bool:
    """Design §9.2: nightly-window days and onboarding runs count; backfills of older days never do."""
    if trigger == "onboarding":
        return True
    horizon = run_start.date() - timedelta(days=NIGHTLY_WINDOW_DAYS)
    return any(d >= horizon for d in days)


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
        failed_teams = {r.team_day.team for r in failed}
        for slug in sorted({r.team_day.team for r in results if r.ok} - failed_teams):
            team = store.get_team(slug)
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
        lines = "\n".join(f"- {x['team']} {x['day']}: {x['error_kind']} ({x['message']})" for x in records[:50])
        raise dg.Failure(
            description=f"{what}: {len(failed)} of {len(results)} team-day(s) failed:\n{lines}",
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
    check_results: Callable[[Any], list[dg.AssetCheckResult]] | None = None,
) -> Iterator[dg.AssetMaterialization | dg.AssetCheckResult]:
    """The body every Copilot sync asset shares: sync the run's team-days, then report them."""
    s = store.get()
    what = context.asset_key.to_user_string()
    results = sync_team_days(context, store=s, github=github, what=what,
                             fetch_day=lambda sync, day: fetch_day(sync, day, context.log),
                             skip_done=already_materialized_in_run(context))
    yield from finish(context, results, store=s, what=what, apply_success=apply_success,
                      check_results=(lambda: check_results(s.engine)) if check_results else None)


def preview_md(rows: Sequence[dict[str, Any]], columns: Sequence[str], limit: int = 5) -> dg.MetadataValue:
    if not rows:
        return dg.MetadataValue.md("_no rows_")
    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    body = "\n".join("| " + " | ".join(_cell(r.get(c)) for c in columns) + " |" for r in rows[:limit])
    return dg.MetadataValue.md(head + body)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|")[:40] if value is not None else ""


def failed_team_days(metadata: dict[str, Any]) -> list[dict[str, Any]]:
    """Read the ``failed_team_days`` list back from a Failure's metadata (raw or MetadataValue)."""
    value = metadata.get("failed_team_days")
    value = getattr(value, "value", value) if value is not None else None
    if isinstance(value, str):
        value = json.loads(value)
    if isinstance(value, list):
        return [dict(v) for v in value]
    team = metadata.get("team")
    team = getattr(team, "value", team)
    if not team:
        return []
    status = metadata.get("http_status")
    kind = metadata.get("error_kind")
    return [{"team": team, "day": None, "error_kind": getattr(kind, "value", kind),
             "http_status": getattr(status, "value", status)}]


__all__ = [
    "NIGHTLY_WINDOW_DAYS",
    "RUN_TRIGGER_TAG",
    "TEAM_TAG",
    "DayResult",
    "TeamSync",
    "already_materialized_in_run",
    "counts_toward_strikes",
    "failed_team_days",
    "finish",
    "preview_md",
    "run_started_at",
    "run_sync_asset",
    "sync_team_days",
    "team_day_key",
]
