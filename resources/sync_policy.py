"""Sync policy knobs shown in the Dagster UI (a resource, so operators see and set them per deployment)."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

DEFAULT_GAP_HORIZON_DAYS = 28  # = copilot_assets.metrics.WINDOW_DAYS, GitHub's latest-report window
DEFAULT_FAILURE_CATCH_UP_DAYS = 7


class SyncPolicyResource(dg.ConfigurableResource):
    """How far back the nightly keeps re-fetching missing team-days, and how far back the failure sensor
    catches up on failed runs it has not processed (its first tick, or after the daemon was down)."""

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
