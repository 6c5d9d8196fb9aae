"""Team × day Copilot assets: usage (organization report), per-user and per-GitHub-team usage, seats.

All three are range-aware (``BackfillPolicy.single_run``): one run may carry one team-day or many.
Writes are delete-then-insert in one transaction per team's batch of team-days (``Store.replace_team_days``,
written by the sync engine once a team's days are fetched). What GitHub sent
becomes rows through copilot_assets/derive.py only (the re-derive job uses the same functions).
"""


from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg

from copilot_assets import derive, parsing
from copilot_assets.checks import (
    SEATS_CHECK_SPECS,
    USAGE_CHECK_SPECS,
    USER_USAGE_CHECK_SPECS,
    seats_check_results,
    usage_check_results,
    user_usage_check_results,
)
from copilot_assets.metadata import preview_md
from copilot_assets.metrics import RATIO_DISPLAY_DIGITS
from copilot_assets.partitions import TeamDay, team_day_partitions
from copilot_assets.sync import DayResult, TeamSync, run_sync_asset
from resources.app_store import StoreResource
from resources.cost import CostResource, SeatPrices
from resources.github import (
    BILLING_REPORT,
    ORG_1_DAY,
    ORG_28_DAY,
    SEATS_REPORT,
    USER_TEAMS_FLOOR_CONFIG,
    USER_TEAMS_REPORT,
    USERS_1_DAY,
    USERS_28_DAY,
    GitHubResource,
)
from resources.github_errors import FATAL_KINDS, GitHubError
from resources.schemas import asset_definition_metadata
from resources.store import TeamDayWrite
from resources.tables import SEAT_COSTS

GITHUB_POOL = "github_api"
# transient errors are retried inside the client; one more step attempt covers a longer outage
RETRY = dg.RetryPolicy(max_retries=1, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)
# a range that touches this many of the last 28 days is fetched through the *-28-day/latest reports
USE_28_DAY_MIN_DAYS = 3

COMMON: dict[str, Any] = dict(
    partitions_def=team_day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    output_required=False,
    group_name="copilot",
    owners=["team:analytics"],
    pool=GITHUB_POOL,
    retry_policy=RETRY,
)


def sync_asset(name: str, *, description: str, fetch_day: Callable[[TeamSync, date, Any], DayResult],
               check_specs: list[dg.AssetCheckSpec], check_results: Callable[..., list[dg.AssetCheckResult]],
               apply_success: bool = False, priced: bool = False) -> dg.AssetsDefinition:
    """A team × day sync asset: the shared engine (``run_sync_asset``) with this asset's per-team-day fetcher
    and checks. Only ``copilot_usage`` applies a team's success to its status (one success per run); a
    ``priced`` asset also takes the seat prices (``CostResource``)."""
    spec: dict[str, Any] = dict(name=name, description=description, kinds={"github", "sql"},
                                check_specs=check_specs, metadata=asset_definition_metadata(name), **COMMON)

    def body(context: dg.AssetExecutionContext, store: StoreResource, github: GitHubResource,
             cost: CostResource | None = None):
        yield from run_sync_asset(context, store, github, fetch_day, apply_success=apply_success,
                                  check_results=check_results, prices=cost.prices() if cost else None)

    if priced:
        @dg.asset(**spec)
        def _priced(context: dg.AssetExecutionContext, store: StoreResource, github: GitHubResource,
                    cost: CostResource):
            yield from body(context, store, github, cost)

        return _priced

    @dg.asset(**spec)
    def _sync(context: dg.AssetExecutionContext, store: StoreResource, github: GitHubResource):
        yield from body(context, store, github)

    return _sync


def _wants_28_day(days: list[date]) -> bool:
    today = datetime.now(UTC).date()
    return sum(1 for d in days if today - timedelta(days=29) <= d < today) >= USE_28_DAY_MIN_DAYS


USAGE_ASSET = "copilot_usage"
USER_USAGE_ASSET = "copilot_user_usage"


def _org_28_day(sync: TeamSync, log: Any) -> dict[date, dict]:
    """organization-28-day/latest (its day objects by day), fetched once per team and run when the range
    covers recent days."""
    if "org28" not in sync.cache:
        by_day: dict[date, dict] = {}
        if _wants_28_day(sync.days):
            try:
                report = sync.client.report_latest_28(ORG_28_DAY)
            except GitHubError as exc:
                if exc.error_kind in FATAL_KINDS:
                    raise
                log.warning(f"{sync.team.slug}: 28-day report unavailable ({exc.error_kind}); using 1-day reports")
                report = None
            if report:
                by_day = parsing.org_28_day_items(report.records)
        sync.cache["org28"] = by_day
    return sync.cache["org28"]


def _no_report(sync: TeamSync, day: date, asset: str, report: str, why: str) -> DayResult:
    """204 / 404 / an empty report: GitHub has no report for this day yet (docs/architecture.md decision
    11). Never a failure and never a status change; the day stays in the gap list until GitHub serves it or
    it leaves the horizon. Rows already stored for the day are kept (decision 8)."""
    state = sync.store.record_no_report(sync.team.id, day, asset, report, why, run_id=sync.run_id)
    md: dict[str, Any] = {"rows_written": 0, "no_report_reason": why, "day_state": state,
                          "rows_kept": state == "data"}
    return DayResult(TeamDay(day, sync.team.slug), ok=True, no_report=True, metadata=md)


def _day_source(sync: TeamSync, day: date, asset: str, from_latest: Callable[[date], Any], latest_report: str,
                one_day_report: str) -> tuple[str, Any]:
    """(report, what it holds for the day): the team's 28-day report when it has the day, else the records of
    the day's 1-day report — or the "no report yet" result."""
    held = from_latest(day)
    if held is not None:
        return latest_report, held
    return one_day_report, _one_day_records(sync, day, asset, one_day_report)


def _one_day_records(sync: TeamSync, day: date, asset: str, report: str) -> list[dict] | DayResult:
    """The records of ``day`` in its 1-day report (a record without ``day`` belongs to it), or the "no report
    yet" result when GitHub answered 204/404 or a report without a record of the day."""
    got = sync.client.report_day(report, day)
    if not got:
        return _no_report(sync, day, asset, report, got.why)
    records = [r for r in got.records if str(r.get("day", day)) == day.isoformat()]
    return records or _no_report(sync, day, asset, report, "empty_report")


def _present_md(row: dict[str, Any], *columns: str) -> dict[str, Any]:
    """The columns GitHub gave a value for (an absent field stays out of the metadata: null is not 0)."""
    return {c: row[c] for c in columns if row.get(c) is not None}


def _skipped_md(skipped: Counter[str]) -> dict[str, Any]:
    """Records GitHub sent that could not be kept (lenient parsing): counted, never silently dropped."""
    md: dict[str, Any] = {"skipped_records": sum(skipped.values())}
    if skipped:
        md["skipped_by_cause"] = dg.MetadataValue.json(dict(skipped))
    return md


# ----------------------------------------------------------------------------- copilot_usage
def fetch_usage_day(sync: TeamSync, day: date, log: Any) -> DayResult:
    source, got = _day_source(sync, day, USAGE_ASSET, _org_28_day(sync, log).get, ORG_28_DAY, ORG_1_DAY)
    if isinstance(got, DayResult):
        return got
    raw = got if source == ORG_28_DAY else got[-1]
    now = datetime.now(UTC)
    rows, tables_rows = derive.usage_tables(raw, day, source, now)
    usage = rows.usage
    write = TeamDayWrite(day, tables_rows, {source: [raw]}, day_state_of=USAGE_ASSET, raw_fetched_at=now)
    md: dict[str, Any] = {
        **_present_md(usage, "daily_active_copilot_cloud_agent_users", "daily_active_copilot_code_review_users",
                      "daily_active_cli_users", "daily_active_copilot_app_users"),
        **_present_md(rows.pull_requests[0] if rows.pull_requests else {}, "total_created", "total_merged"),
        "source_report": source,
        "active_users": int(usage.get("daily_active_users") or 0),
        "code_acceptances": int(usage.get("code_acceptance_activity_count") or 0),
        "lines_accepted": int(usage.get("loc_added_sum") or 0),
        "top_languages": preview_md(
            sorted(rows.languages, key=lambda r: -int(r.get("code_acceptance_activity_count") or 0)),
            ["language", "code_generation_activity_count", "code_acceptance_activity_count", "acceptance_rate"],
        ),
    }
    if usage.get("acceptance_rate") is not None:
        md["acceptance_rate"] = round(float(usage["acceptance_rate"]), RATIO_DISPLAY_DIGITS)
    return DayResult(TeamDay(day, sync.team.slug), ok=True, rows=write.rows_written, metadata=md, write=write)


copilot_usage = sync_asset(
    "copilot_usage",
    description="Daily Copilot usage per team from GitHub's organization-1-day report (or the 28-day report "
    "for recent ranges): copilot_usage_daily plus language, editor, model and feature breakdowns. "
    "The raw report is kept per team-day in copilot_raw_reports.",
    fetch_day=fetch_usage_day, check_specs=USAGE_CHECK_SPECS, check_results=usage_check_results,
    apply_success=True,
)


# ----------------------------------------------------------------------------- copilot_user_usage
def _users_28_day(sync: TeamSync, log: Any) -> Any:
    """users-28-day/latest spooled day by day as it streams (the run's days only; held as parsed records up
    to 2 MB of lines, to disk past it — never the whole report: a 10,000-seat org's is ~200k records),
    fetched once per team and run when the range covers recent days; dropped when the team's sync ends.
    None when not used."""
    if "users28" not in sync.cache:
        spool = None
        if _wants_28_day(sync.days):
            try:
                # only this run's days are written to disk (the report holds 28)
                got = sync.client.report_latest_28_by_day(USERS_28_DAY, keep_days=sync.days)
                if got:
                    spool = got
                    sync.cleanups.append(spool.close)
                    if spool.skipped_without_day:
                        log.warning(f"{sync.team.slug}: users-28-day: {spool.skipped_without_day} record(s) "
                                    "without a valid day skipped")
            except GitHubError as exc:
                if exc.error_kind in FATAL_KINDS:
                    raise
                log.warning(f"{sync.team.slug}: users-28-day unavailable ({exc.error_kind}); using 1-day reports")
        sync.cache["users28"] = spool
        sync.cache["users28_days"] = set(spool.days()) if spool is not None else set()
    return sync.cache["users28"]


def fetch_user_usage_day(sync: TeamSync, day: date, log: Any) -> DayResult:
    spool = _users_28_day(sync, log)

    def from_spool(d: date) -> list[dict] | None:
        return list(spool.records(d)) if spool is not None and d in sync.cache["users28_days"] else None

    users_source, users = _day_source(sync, day, USER_USAGE_ASSET, from_spool, USERS_28_DAY, USERS_1_DAY)
    if isinstance(users, DayResult):
        return users
    raw_reports = {USERS_1_DAY: [r for r in users if str(r.get("day", day)) == day.isoformat()]}
    note = _user_teams_not_offered(sync, day, log)
    team_records: list[dict] | None = None
    if note is None:
        teams_report = sync.client.report_day(USER_TEAMS_REPORT, day)
        team_records = raw_reports[USER_TEAMS_REPORT] = teams_report.records if teams_report else []
    # before the user-teams floor, copilot_github_team_daily and the raw user-teams report are not named,
    # so whatever is already stored for them stays (a write touches the named tables only)
    skipped: Counter[str] = Counter()
    tables, user_rows, team_rows = derive.user_usage_tables(users, team_records, day, skipped)
    write = TeamDayWrite(day, tables, raw_reports, day_state_of=USER_USAGE_ASSET)
    if skipped:
        log.warning(f"{sync.team.slug} {day}: {sum(skipped.values())} record(s) GitHub sent could not be kept: "
                    + ", ".join(f"{n} {cause}" for cause, n in skipped.most_common()))
    md: dict[str, Any] = {
        "users_source": users_source,
        "users": len(user_rows),
        "users_without_login": sum(1 for r in user_rows if r["user_login"] is None),
        "engaged_users": sum(1 for r in user_rows if r.get("engaged")),
        **_credits_md(user_rows),
        "github_teams": len(team_rows),
        **_skipped_md(skipped),
    }
    if note is not None:
        md["github_teams_note"] = note
    else:
        md["github_teams_below_threshold"] = sum(1 for r in team_rows if r.get("below_threshold"))
        md["github_team_preview"] = preview_md(
            sorted(team_rows, key=lambda r: -int(r.get("active_users") or 0)),
            ["github_team_slug", "active_users", "engaged_users", "acceptance_rate", "below_threshold"],
        )
    return DayResult(TeamDay(day, sync.team.slug), ok=True, rows=write.rows_written, metadata=md, write=write)


def _credits_md(user_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """AI credits the users spent that day (summable: a sum over users), when GitHub reported any."""
    credits = [r["ai_credits_used"] for r in user_rows if r.get("ai_credits_used") is not None]
    return {"ai_credits_used": round(sum(credits), 2), "users_with_ai_credits": len(credits)} if credits else {}


def _user_teams_not_offered(sync: TeamSync, day: date, log: Any) -> str | None:
    """The metadata note when ``day`` is before the user-teams floor (no request then), else None.

    Logged once per team and run, not once per day."""
    floor: date | None = getattr(sync.client, "user_teams_available_from", None)
    if floor is None or day >= floor:
        return None
    note = (f"{USER_TEAMS_REPORT} is not offered by GitHub before {floor.isoformat()}: not requested; "
            f"GitHub team rows already stored are kept (set {USER_TEAMS_FLOOR_CONFIG} to change the date)")
    if not sync.cache.get("user_teams_floor_logged"):
        sync.cache["user_teams_floor_logged"] = True
        before = sum(1 for d in sync.days if d < floor)
        log.info(f"{sync.team.slug}: {before} day(s) of this run are before {floor.isoformat()}: "
                 f"per-user rows only. {note}.")
    return note


copilot_user_usage = sync_asset(
    "copilot_user_usage",
    description="Per-user and per-GitHub-team daily Copilot usage: users-1-day joined with user-teams-1-day "
    "of the same day. GitHub teams with fewer than 5 Copilot users are kept, flagged below_threshold. "
    "user-teams-1-day is not asked for before GitHubResource.user_teams_available_from (default 2026-05-14, "
    "when GitHub added it): those days get per-user rows only.",
    fetch_day=fetch_user_usage_day, check_specs=USER_USAGE_CHECK_SPECS, check_results=user_usage_check_results,
)


# ----------------------------------------------------------------------------- copilot_seats
SEAT_HISTORY_NOTE = ("GitHub keeps no seat history: a seat snapshot can only be taken for today "
                     "(or stored under yesterday, the latest complete day)")


def fetch_seats_day(sync: TeamSync, day: date, log: Any) -> DayResult:
    now = datetime.now(UTC)
    if day not in (now.date(), now.date() - timedelta(days=1)):
        # summed up in one log line per step by sync.finish (not one per team-day: each is an event)
        return DayResult(TeamDay(day, sync.team.slug), skipped=f"past date. {SEAT_HISTORY_NOTE}")
    billing = sync.client.billing()
    seats = sync.client.seats()
    tables, row = derive.seat_tables(billing, seats, now, day, sync.prices or SeatPrices())
    write = TeamDayWrite(day, tables, {BILLING_REPORT: [billing], SEATS_REPORT: seats}, raw_fetched_at=now)
    total = int(row["total_seats"] or 0)
    md = {
        "total_seats": total,
        "active_seats": int(row["active_seats"] or 0),
        "never_used_seats": int(row["never_used"] or 0),
        "dormant_30d_seats": int(row["dormant_30d"] or 0),
        "snapshot_at": dg.MetadataValue.timestamp(now),
        "plan_type": str(row.get("plan_type") or "unknown"),
        **{c: round(row[c], 2) for c in SEAT_COSTS if row.get(c) is not None},
        "seats_by_plan": preview_md(tables["copilot_seat_plan_daily"], ["plan_type", "seats", "never_used",
                                                                        "dormant_30d", "seat_price_usd_month"]),
    }
    if total:
        md["seat_utilisation"] = round(int(row["active_seats"] or 0) / total, RATIO_DISPLAY_DIGITS)
    return DayResult(TeamDay(day, sync.team.slug), ok=True, rows=write.rows_written, metadata=md, write=write)


copilot_seats = sync_asset(
    "copilot_seats",
    description="Seat snapshot per team-day from /copilot/billing and /copilot/billing/seats. "
    + SEAT_HISTORY_NOTE + "; older dates are skipped with that reason in the log. 'Never used' = no "
    "last_activity_at (GitHub also clears it after 90 idle days); dormant = last activity > 30 days ago. "
    "Seats per plan_type in copilot_seat_plan_daily, each team-day's seat cost (seats × the plan's monthly price "
    "from CostResource / days in the month) and the cost of never-used and dormant seats.",
    fetch_day=fetch_seats_day, check_specs=SEATS_CHECK_SPECS, check_results=seats_check_results, priced=True,
)


COPILOT_ASSETS = [copilot_usage, copilot_user_usage, copilot_seats]
