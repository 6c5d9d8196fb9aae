"""Sync policy knobs shown in the Dagster UI (a resource, so operators see and set them per deployment)."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

DEFAULT_GAP_HORIZON_DAYS = 28  # = copilot_assets.metrics.WINDOW_DAYS, GitHub's latest-report window
DEFAULT_FAILURE_CATCH_UP_DAYS = 7
DEFAULT_MAX_TEAMS_PER_RUN = 250  # copilot_assets/jobs.py: a run worker's start is paid once per run
DEFAULT_RUNS_AT_ONCE = 4  # = the github_api pool's limit and max_concurrent_runs in dagster*.yaml


class SyncPolicyResource(dg.ConfigurableResource):
    """How far back the nightly keeps re-fetching missing team-days, how far back the failure sensor
    catches up on failed runs it has not processed (its first tick, or after the daemon was down), and how
    the nightly splits the teams into runs."""

    gap_horizon_days: int = Field(
        default=DEFAULT_GAP_HORIZON_DAYS, ge=4, le=366,
        description="Missing or 'no report yet' team-days of the last N days are re-fetched by the nightly; "
        "a day that leaves this horizon still without a report is recorded once as confirmed empty.",
    )
    failure_catch_up_days: int = Field(
        default=DEFAULT_FAILURE_CATCH_UP_DAYS, ge=1, le=90,
        description="copilot_failure_sensor applies failed runs of the last N days it has not processed "
        "(exactly once per run and team), so a failure is not lost while no sensor was looking.",
    )
    max_teams_per_run: int = Field(
        default=DEFAULT_MAX_TEAMS_PER_RUN, ge=1, le=2000,
        description="The most teams one nightly or gap-fill run carries (× 3 days for the nightly). Fewer, "
        "larger runs pay the run worker's start (≈ 3 CPU-s) fewer times; teams are split evenly.",
    )
    runs_at_once: int = Field(
        default=DEFAULT_RUNS_AT_ONCE, ge=1, le=1000,
        description="How many sync runs the deployment executes at once (the github_api pool's limit, "
        "max_concurrent_runs): the nightly makes at least this many runs (of ≥ 25 teams) so no slot idles.",
    )
