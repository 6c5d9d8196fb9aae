"""Re-derive the stored history from ``copilot_raw_reports`` without calling GitHub.

Every derived table is rebuilt from the raw reports a sync kept, through the same functions the sync
fetchers use (copilot_assets/derive.py), so a re-derive and a fresh sync of the same reports cannot differ.
That is how the history kept beyond GitHub's one-year window gains every new column and table after a parser
change (``PARSER_VERSION``). Idempotent: one transaction per team-day replaces exactly the tables its raw
reports derive (raw reports, day states and observations are left as they are, so a team-day with data
stays ``data``); running it twice changes nothing.

- usage: the day's ``organization-1-day`` or ``organization-28-day`` record, whichever was fetched last
  (the one its stored rows came from), stamped with that fetch time;
- per-user and GitHub-team rows: ``users-1-day`` ⋈ ``user-teams-1-day`` (GitHub team rows only when the
  user-teams report was kept, as in a sync);
- seats: ``billing`` + ``seats`` (snapshots taken before seat pages were kept have no ``seats`` raw report:
  they stay as stored), priced with the current ``CostResource``.

Run it as the Dagster job ``copilot_rederive_job`` (config: teams, from, to) or ``copilot-flow rederive``.
"""

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import dagster as dg

from copilot_assets import derive
from resources import queries
from resources.app_store import StoreResource
from resources.cost import CostResource, SeatPrices
from resources.github import BILLING_REPORT, ORG_1_DAY, ORG_28_DAY, SEATS_REPORT, USER_TEAMS_REPORT, USERS_1_DAY
from resources.github_errors import MalformedReport
from resources.store import Store, Team, as_utc
from resources.validation import InvalidInput, parse_day

REDERIVE_JOB = "copilot_rederive_job"


@dataclass
class Rederived:
    """What re-deriving one team's range did."""

    team: str
    team_days: int = 0
    rows: Counter[str] = field(default_factory=Counter)
    skipped_records: Counter[str] = field(default_factory=Counter)
    unparsable: dict[str, str] = field(default_factory=dict)  # day → why its raw reports could not be parsed

    def line(self) -> str:
        out = (f"{self.team}: {self.team_days} team-day(s) re-derived, "
               f"{sum(self.rows.values())} row(s) written")
        if self.skipped_records:
            out += f", {sum(self.skipped_records.values())} record(s) skipped"
        if self.unparsable:
            out += f", {len(self.unparsable)} team-day(s) not parsable (kept as stored)"
        return out


def team_day_tables(raw: dict[str, dict[str, Any]], day: date, prices: SeatPrices,
                    skipped: Counter[str]) -> derive.Tables:
    """The derived tables of one team-day from its raw reports (``queries.raw_reports_of_day``)."""

    def records(report: str) -> list[Any]:
        return json.loads(raw[report]["payload"])

    tables: derive.Tables = {}
    usage_reports = [r for r in (ORG_1_DAY, ORG_28_DAY) if r in raw]
    if usage_reports:
        source = max(usage_reports, key=lambda r: as_utc(raw[r]["fetched_at"]))  # type: ignore[arg-type,return-value]
        kept = records(source)
        if kept:
            tables.update(derive.usage_tables(kept[-1], day, source, as_utc(raw[source]["fetched_at"]))[1])
    if USERS_1_DAY in raw:
        team_records = records(USER_TEAMS_REPORT) if USER_TEAMS_REPORT in raw else None
        tables.update(derive.user_usage_tables(records(USERS_1_DAY), team_records, day, skipped)[0])
    if BILLING_REPORT in raw and SEATS_REPORT in raw:
        [billing] = records(BILLING_REPORT)
        snapshot_at = as_utc(raw[BILLING_REPORT]["fetched_at"])
        tables.update(derive.seat_tables(billing, records(SEATS_REPORT), snapshot_at, day, prices)[0])  # type: ignore[arg-type]
    return tables


def rederive_team(store: Store, team: Team, start: date, end: date, prices: SeatPrices) -> Rederived:
    """Re-derive every team-day of [start, end] the team has raw reports for (one transaction each)."""
    result = Rederived(team.slug)
    with store.engine.connect() as conn:
        days = queries.raw_report_days(conn, team.id, start, end)
    for day in days:
        with store.engine.connect() as conn:
            raw = queries.raw_reports_of_day(conn, team.id, day)
        try:
            tables = team_day_tables(raw, day, prices, result.skipped_records)
        except (MalformedReport, ValueError) as exc:  # a raw copy the current parser cannot read: keep the rows
            result.unparsable[day.isoformat()] = str(exc)[:300]
            continue
        if tables:
            result.rows.update(store.replace_team_day(team.id, day, tables))
            result.team_days += 1
    return result


def rederive(store: Store, slugs: Sequence[str], start: date, end: date, prices: SeatPrices,
             log: Callable[[str], Any] = print) -> list[Rederived]:
    """Re-derive [start, end] for the teams (every team when ``slugs`` is empty); unknown slugs are refused
    before anything is written."""
    if start > end:
        raise InvalidInput(f"--from {start} is after --to {end}")
    teams = store.list_teams() if not slugs else [store.get_team(s) for s in slugs]
    results = []
    for team in teams:
        results.append(rederive_team(store, team, start, end, prices))
        log(results[-1].line())
    return results


@dg.op(
    name="copilot_rederive",
    config_schema={
        "teams": dg.Field([str], default_value=[], description="team slugs; empty: every team"),
        "from": dg.Field(str, description="first day (YYYY-MM-DD, inclusive)"),
        "to": dg.Field(str, description="last day (YYYY-MM-DD, inclusive)"),
    },
    description="Rebuild every derived table of the team-days in range from copilot_raw_reports (no GitHub "
    "call), with the current parsers and seat prices.",
)
def copilot_rederive(context: dg.OpExecutionContext, store: StoreResource, cost: CostResource) -> dg.Output:
    cfg = context.op_config
    try:
        start, end = parse_day(cfg["from"], "from"), parse_day(cfg["to"], "to")
        results = rederive(store.get(), cfg["teams"], start, end, cost.prices(), log=context.log.info)
    except InvalidInput as exc:
        raise dg.Failure(description=str(exc)) from None
    unparsable = {f"{r.team} {day}": why for r in results for day, why in r.unparsable.items()}
    metadata: dict[str, Any] = {
        "team_days": sum(r.team_days for r in results),
        "rows_by_table": dg.MetadataValue.json(dict(sum((r.rows for r in results), Counter()))),
        "skipped_records": sum(sum(r.skipped_records.values()) for r in results),
    }
    if unparsable:
        raise dg.Failure(description=f"{len(unparsable)} team-day(s) could not be re-derived (kept as stored)",
                         metadata={**metadata, "unparsable_team_days": dg.MetadataValue.json(unparsable)})
    return dg.Output(None, metadata=metadata)


@dg.job(name=REDERIVE_JOB, executor_def=dg.in_process_executor,
        description="Re-derive the stored history from copilot_raw_reports without calling GitHub (after a parser "
        "change, or to fill new tables for the whole history). Config: teams, from, to.")
def copilot_rederive_job() -> None:
    copilot_rederive()
