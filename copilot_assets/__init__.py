"""Ingestion: team × day partitions, usage and seat assets, the team status machine, sensors, schedules, alerts,
and the re-derive job (stored raw reports → every derived table, no GitHub call)."""

from __future__ import annotations

import dagster as dg


def definitions() -> dg.Definitions:
    from copilot_assets.alerts_sensor import copilot_alerts_sensor
    from copilot_assets.assets import COPILOT_ASSETS
    from copilot_assets.failure_sensor import copilot_failure_sensor
    from copilot_assets.jobs import COPILOT_JOBS
    from copilot_assets.rederive import copilot_rederive_job
    from copilot_assets.schedules import COPILOT_SCHEDULES
    from copilot_assets.sensors import COPILOT_SENSORS

    return dg.Definitions(
        assets=COPILOT_ASSETS,
        jobs=[*COPILOT_JOBS, copilot_rederive_job],
        schedules=COPILOT_SCHEDULES,
        sensors=[*COPILOT_SENSORS, copilot_failure_sensor, copilot_alerts_sensor],
    )
