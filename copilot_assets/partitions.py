"""Team × day partitions. Multi-partition keys are ordered by dimension name: ``date|team``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import dagster as dg

from resources.validation import InvalidInput, parse_day, validate_slug

FIRST_REPORT_DAY = "2025-10-10"  # the first day GitHub's usage-metrics reports serve
TEAMS_PARTITION_NAME = "teams"  # the dynamic partitions definition (renaming it orphans deployed partitions)
DATE_DIMENSION = "date"
TEAM_DIMENSION = "team"
TEAM_DIMENSION_TAG = f"dagster/partition/{TEAM_DIMENSION}"  # set on single-partition runs (not on range runs)

date_partitions = dg.DailyPartitionsDefinition(start_date=FIRST_REPORT_DAY, timezone="UTC")
team_partitions = dg.DynamicPartitionsDefinition(name=TEAMS_PARTITION_NAME)
team_day_partitions = dg.MultiPartitionsDefinition({DATE_DIMENSION: date_partitions, TEAM_DIMENSION: team_partitions})


@dataclass(frozen=True, order=True)
class TeamDay:
    day: date
    team: str

    @property
    def key(self) -> dg.MultiPartitionKey:
        return team_day_key(self.team, self.day)


def team_day_key(team: str, day: date | str) -> dg.MultiPartitionKey:
    validate_slug(team)
    day_s = day if isinstance(day, str) else day.isoformat()
    parse_day(day_s)
    return dg.MultiPartitionKey({DATE_DIMENSION: day_s, TEAM_DIMENSION: team})


def parse_team_day(key: str | dg.MultiPartitionKey) -> TeamDay:
    """The one way to read a partition key's dimensions (works for str keys and MultiPartitionKey)."""
    if isinstance(key, dg.MultiPartitionKey):
        dims = key.keys_by_dimension
    else:
        parts = str(key).split("|")
        if len(parts) != 2:
            raise InvalidInput(f"partition key {key!r} is not of the form YYYY-MM-DD|team")
        dims = {DATE_DIMENSION: parts[0], TEAM_DIMENSION: parts[1]}
    return TeamDay(day=parse_day(dims[DATE_DIMENSION], "partition date"), team=validate_slug(dims[TEAM_DIMENSION]))


def team_days_of(context: dg.AssetExecutionContext) -> list[TeamDay]:
    """Every team-day a run targets: one key from a UI click, many from a range run or backfill."""
    return sorted(parse_team_day(k) for k in context.partition_keys)
