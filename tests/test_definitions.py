"""The one Definitions object loads, validates, and exposes the names other parts rely on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

ROOT = Path(__file__).resolve().parent.parent


def test_definitions_expose_the_contract_names():
    from definitions import defs

    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"copilot_usage", "copilot_user_usage", "copilot_seats", "copilot_insights"} <= keys
    assert defs.resolve_schedule_def("copilot_nightly_sync").cron_schedule == "45 4 * * *"
    assert defs.resolve_schedule_def("copilot_nightly_sync").execution_timezone == "UTC"
    for name in ("copilot_teams_sensor", "copilot_failure_sensor", "copilot_onboarding_sensor",
                 "copilot_license_probe", "copilot_insights_automation"):
        assert defs.resolve_sensor_def(name).default_status == dg.DefaultSensorStatus.RUNNING
    usage = defs.resolve_assets_def("copilot_usage")
    mp = usage.partitions_def
    assert isinstance(mp, dg.MultiPartitionsDefinition)
    assert [d.name for d in mp.partitions_defs] == ["date", "team"]
    assert mp.get_partitions_def_for_dimension("team").name == "teams"
    assert set(defs.resources) >= {"store", "github", "llm"}


def test_dagster_definitions_validate(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").write_text((ROOT / "dagster.yaml").read_text())
    proc = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "All code locations passed validation" in proc.stderr + proc.stdout
