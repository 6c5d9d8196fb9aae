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
                 "copilot_license_probe", "copilot_insights_automation", "copilot_alerts_sensor"):
        assert defs.resolve_sensor_def(name).default_status == dg.DefaultSensorStatus.RUNNING
    usage = defs.resolve_assets_def("copilot_usage")
    mp = usage.partitions_def
    assert isinstance(mp, dg.MultiPartitionsDefinition)
    assert [d.name for d in mp.partitions_defs] == ["date", "team"]
    assert mp.get_partitions_def_for_dimension("team").name == "teams"
    assert set(defs.resources) >= {"store", "github", "llm", "alerts"}


def test_dagster_definitions_validate(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").write_text((ROOT / "dagster.yaml").read_text())
    proc = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "All code locations passed validation" in proc.stderr + proc.stdout


ENV_FIELDS = {("store", "database_url"): "COPILOT_FLOW_DATABASE_URL",
              ("github", "base_url"): "COPILOT_FLOW_GITHUB_API_URL"}


def test_the_ui_shows_env_var_names_never_their_values(tmp_path):
    """Every resource field read from the environment is a ``dg.EnvVar``: the repository snapshot the UI
    renders names the variable, and the value (a database URL's password) is nowhere in it."""
    script = """
import json
from dagster._core.remote_representation.external_data import RepositorySnap
from dagster._serdes import serialize_value
from definitions import defs
snap = RepositorySnap.from_def(defs.get_repository_def())
out = {r.name: {k: getattr(v, "name", None) if type(v).__name__ == "ResourceConfigEnvVarSnap" else ["value", v]
                for k, v in r.configured_values.items()} for r in snap.resources}
print(json.dumps({"fields": out, "serialized": serialize_value(snap)}))
"""
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path),
           "COPILOT_FLOW_DATABASE_URL": "postgresql://analytics:Sup3rSecretPw@db.internal/copilot",
           "COPILOT_FLOW_GITHUB_API_URL": "https://github.example.internal/api/v3"}
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    import json

    got = json.loads(proc.stdout.strip().splitlines()[-1])
    for (resource, field), var in ENV_FIELDS.items():
        assert got["fields"][resource][field] == var, (resource, field, got["fields"][resource])
    assert "Sup3rSecretPw" not in got["serialized"]
    assert "github.example.internal" not in got["serialized"]
    # without the variables the fields keep their defaults (the embedded store, the public API)
    bare = {k: v for k, v in env.items() if k not in ENV_FIELDS.values()}
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=bare, capture_output=True, text=True,
                          timeout=180)
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["fields"]["github"]["base_url"] == ["value", '"https://api.github.com"']
    assert "database_url" not in got["fields"]["store"] or got["fields"]["store"]["database_url"] == ["value", '""']


def test_every_environment_variable_the_code_reads_is_in_the_readme():
    """The settings module is the one reader of the environment; the README's table names every variable."""
    import re

    from resources import settings

    readme = (ROOT / "README.md").read_text()
    table = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, flags=re.M))
    assert set(settings.ENV_VARS) <= table, set(settings.ENV_VARS) - table
    # and nothing else in the product reads os.environ
    offenders = []
    for path in [*ROOT.glob("copilot_assets/**/*.py"), *ROOT.glob("insights_assets/**/*.py"),
                 *ROOT.glob("resources/**/*.py"), *ROOT.glob("copilot_flow/*.py"), ROOT / "definitions.py"]:
        if path.name == "settings.py":
            continue
        text = path.read_text()
        if re.search(r"os\.environ(\.get|\[|\))|os\.getenv|EnvVar\([^)]*\)\.get_value", text) \
                and path.name != "demo.py":
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_runs_at_once_comes_from_the_environment(monkeypatch):
    import pytest

    import definitions
    from resources import settings
    from resources.sync_policy import DEFAULT_RUNS_AT_ONCE

    monkeypatch.delenv(settings.RUNS_AT_ONCE_ENV, raising=False)
    assert definitions.resources()["sync_policy"].runs_at_once == DEFAULT_RUNS_AT_ONCE
    monkeypatch.setenv(settings.RUNS_AT_ONCE_ENV, " 16 ")
    assert definitions.resources()["sync_policy"].runs_at_once == 16
    for bad in ("0", "four", "-2"):
        monkeypatch.setenv(settings.RUNS_AT_ONCE_ENV, bad)
        with pytest.raises(ValueError, match=f"{settings.RUNS_AT_ONCE_ENV}={bad!r}"):
            definitions.resources()
