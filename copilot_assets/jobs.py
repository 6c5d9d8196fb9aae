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
from resources.sync_policy import DEFAULT_MAX_TEAMS_PER_RUN

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
DATES_TAG = "copilot/dates"
TEAMS_TAG = "copilot/teams"
# Decision 13: a run carries many team-days; a few runs cover everyone. A run worker costs ≈ 3 CPU-s to
# start (importing Dagster and the definitions) before its first team-day, so the nightly makes as few runs
# as keep every run slot busy: at least `runs_at_once` runs (SyncPolicyResource; the github_api pool's limit)
# of at least MIN_TEAMS_PER_RUN teams, at most MAX_TEAMS_PER_RUN teams each, split evenly
# (docs/benchmarks.md, issue 20).
MAX_TEAMS_PER_RUN = DEFAULT_MAX_TEAMS_PER_RUN
MIN_TEAMS_PER_RUN = 25
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


def consecutive_chunks(ordered: Sequence[str], eligible: set[str], max_per_chunk: int, *,
                       runs_at_once: int = 1, min_per_chunk: int = 1) -> list[list[str]]:
    """Split ``ordered`` (the dynamic partition order) into runs of consecutive eligible teams.

    A range run covers every key between its start and end, so an ineligible team must never sit
    inside a chunk (it would be recorded as failed when the run fails; decision 13). Chunks hold at most
    ``max_per_chunk`` teams and are split evenly (1,000 teams at 250 → 4 × 250, not 250, 250, 250, 249, 1);
    with ``runs_at_once`` > 1 there are at least that many chunks as long as each keeps ``min_per_chunk``
    teams (200 teams, 4 at once → 4 × 50: one run would leave the other run slots idle)."""
    if max_per_chunk < 1 or runs_at_once < 1 or min_per_chunk < 1:
        raise ValueError(f"chunk sizes must be ≥ 1 (max {max_per_chunk}, at once {runs_at_once}, "
                         f"min {min_per_chunk})")
    segments: list[list[str]] = [[]]
    for slug in ordered:
        if slug in eligible:
            segments[-1].append(slug)
        elif segments[-1]:
            segments.append([])
    segments = [seg for seg in segments if seg]
    total = sum(len(seg) for seg in segments)
    if not total:
        return []
    wanted = max(-(-total // max_per_chunk), min(runs_at_once, max(1, total // min_per_chunk)))
    size = -(-total // wanted)  # the largest chunk that still gives `wanted` chunks overall
    chunks: list[list[str]] = []
    for seg in segments:
        n = -(-len(seg) // size)
        base, extra = divmod(len(seg), n)
        at = 0
        for i in range(n):
            step = base + (1 if i < extra else 0)
            chunks.append(seg[at:at + step])
            at += step
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
    "MIN_TEAMS_PER_RUN",
    "RANGE_END",
    "RANGE_START",
    "SYNC_ASSETS",
    "SYNC_KEYS",
    "consecutive_chunks",
    "copilot_sync_job",
    "range_run_request",
]
