"""Run schedules, sensors and run requests in-process against a real instance (demo, tests, benches).

The daemon does the same work in production; this module lets the demo and tests drive the very same
definitions step by step, including the run-failure sensor after a failed run.
"""

from __future__ import annotations

from typing import Any

import dagster as dg


def all_assets_and_checks(defs: dg.Definitions) -> list[Any]:
    return [*(defs.assets or []), *(defs.asset_checks or [])]


def tick_sensor(defs: dg.Definitions, instance: dg.DagsterInstance, name: str, cursor: str | None = None):
    """Evaluate a sensor once like the daemon: dynamic partition requests are applied to the instance."""
    sensor = defs.resolve_sensor_def(name)
    ctx = dg.build_sensor_context(instance=instance, cursor=cursor, resources=defs.resources, definitions=defs)
    with dg.partition_loading_context(dynamic_partitions_store=instance):
        data = sensor.evaluate_tick(ctx)
    for req in data.dynamic_partitions_requests or []:
        if isinstance(req, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(req.partitions_def_name, list(req.partition_keys))
    return data


def schedule_tick(defs: dg.Definitions, instance: dg.DagsterInstance, name: str, tick: Any):
    """Evaluate a schedule for the tick ``tick`` (an aware datetime) like the daemon, with the definitions'
    resources."""
    ctx = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick, resources=defs.resources)
    return defs.resolve_schedule_def(name).evaluate_tick(ctx)


def execute_run_request(defs: dg.Definitions, instance: dg.DagsterInstance, rr: dg.RunRequest,
                        *, apply_failure_sensor: bool = True, log_level: str = "INFO") -> dg.DagsterRun:
    result = dg.materialize(
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        assets=all_assets_and_checks(defs),
        selection=rr.asset_selection,
        instance=instance,
        resources=defs.resources,
        tags=dict(rr.tags),
        partition_key=rr.partition_key,
        raise_on_error=False,
    )
    if not result.success and apply_failure_sensor:
        run_failure_sensor_tick(defs, instance, result)
    return result.dagster_run


def run_failure_sensor_tick(defs: dg.Definitions, instance: dg.DagsterInstance, result=None,
                            cursor: str | None = None):
    """One tick of ``copilot_failure_sensor`` as the daemon would run it (``result`` is unused: the sensor
    finds failed runs itself; without a cursor it catches up on the failed runs of the last days)."""
    return tick_sensor(defs, instance, "copilot_failure_sensor", cursor=cursor)
