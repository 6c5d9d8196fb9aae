"""The sync job and the run requests that carry ranges of team-days (docs/architecture.md decision 13).

A ``RunRequest`` has no range argument: a range run is asked for with Dagster's two range tags
(``dagster/asset_partition_range_start``/``_end``), over consecutive teams of the partition order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import dagster as dg

from copilot_assets.assets import COPILOT_ASSETS
from copilot_assets.outcomes import NIGHT_TAG, RUN_TRIGGER_TAG, TEAM_TAG

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
DATES_TAG = "copilot/dates"
TEAMS_TAG = "copilot/teams"
MAX_TEAMS_PER_RUN = 50  # decision 13: a run carries many team-days; a few runs cover everyone
INSIGHTS_KEY = dg.AssetKey("copilot_insights")
SYNC_ASSETS = COPILOT_ASSETS
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


def consecutive_chunks(ordered: Sequence[str], eligible: set[str], max_per_chunk: int) -> list[list[str]]:
    """Split ``ordered`` (the dynamic partition order) into runs of consecutive eligible teams.

    A range run covers every key between its start and end, so an ineligible team must never sit
    inside a chunk (it would be recorded as failed when the run fails; decision 13)."""
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


def range_run_request(teams: Sequence[str], start: date, end: date, *, run_key: str, trigger: str,
                      extra_tags: dict[str, str] | None = None, night: date | None = None,
                      asset_keys: Sequence[dg.AssetKey] = tuple(SYNC_KEYS)) -> dg.RunRequest:
    """A run of every team-day of ``teams`` (consecutive in the partition order) × ``start..end``."""
    tags = {
        RANGE_START: f"{start.isoformat()}|{teams[0]}",
        RANGE_END: f"{end.isoformat()}|{teams[-1]}",
        RUN_TRIGGER_TAG: trigger,
        DATES_TAG: f"{start.isoformat()}..{end.isoformat()}",
        TEAMS_TAG: f"{teams[0]}..{teams[-1]}" if len(teams) > 1 else teams[0],
    }
    if len(teams) == 1:
        tags[TEAM_TAG] = teams[0]
    if night is not None:
        tags[NIGHT_TAG] = night.isoformat()
    tags.update(extra_tags or {})
    return dg.RunRequest(run_key=run_key, asset_selection=list(asset_keys), tags=tags)


COPILOT_JOBS = [copilot_sync_job]

__all__ = [
    "COPILOT_JOBS",
    "INSIGHTS_KEY",
    "MAX_TEAMS_PER_RUN",
    "RANGE_END",
    "RANGE_START",
    "SYNC_ASSETS",
    "SYNC_KEYS",
    "consecutive_chunks",
    "copilot_sync_job",
    "range_run_request",
]
