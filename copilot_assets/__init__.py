"""Ingestion: team × day partitions, usage and seat assets, the team status machine, sensors, schedules."""

from __future__ import annotations

import dagster as dg


def definitions() -> dg.Definitions:
    from copilot_assets.assets import COPILOT_ASSETS
    from copilot_assets.automation import COPILOT_JOBS, COPILOT_SCHEDULES, COPILOT_SENSORS

    return dg.Definitions(
        assets=COPILOT_ASSETS,
        jobs=COPILOT_JOBS,
        schedules=COPILOT_SCHEDULES,
        sensors=COPILOT_SENSORS,
    )
