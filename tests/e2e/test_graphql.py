"""End to end through the UI's GraphQL API: `dagster-webserver` (a real subprocess, the real workspace.yaml)
on a temp instance; one team-day of copilot_usage materialized in-process against that same instance and
the GitHub simulator; the webserver's /graphql then reports that team-day as materialized.

Marked ``slow`` for selection (``-m 'not slow'`` locally); `make test` runs everything, this included.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "gho_e2e_Token0123456789"
STARTUP_TIMEOUT_S = 45

PARTITION_STATUS_QUERY = """
query PartitionStatus($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    __typename
    ... on AssetNode {
      assetKey { path }
      partitionStats { numMaterialized numFailed numPartitions }
      assetPartitionStatuses {
        __typename
        ... on MultiPartitionStatuses {
          primaryDimensionName
          ranges {
            primaryDimStartKey
            primaryDimEndKey
            secondaryDim {
              __typename
              ... on DefaultPartitionStatuses { materializedPartitions failedPartitions }
            }
          }
        }
      }
    }
  }
}
"""


def _webserver_bin() -> str:
    exe = Path(sys.executable).parent / "dagster-webserver"
    return str(exe) if exe.exists() else "dagster-webserver"


def _wait_for_server(base: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"dagster-webserver exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/server_info", timeout=2).status_code == 200:
                return
        time.sleep(0.25)
    pytest.fail(f"dagster-webserver did not answer within {STARTUP_TIMEOUT_S}s:\n{log.read_text()[-4000:]}")


def _stop(proc: subprocess.Popen) -> None:
    """Stop the webserver and the code server it spawned (its own process group)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    else:  # the code server may outlive a crashed webserver
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def _graphql(base: str, query: str, variables: dict) -> dict:
    r = httpx.post(f"{base}/graphql", json={"query": query, "variables": variables}, timeout=30)
    r.raise_for_status()
    body = r.json()
    assert not body.get("errors"), body["errors"]
    return body["data"]


@pytest.mark.slow
def test_webserver_graphql_reports_the_materialized_team_day(tmp_path, monkeypatch):
    from copilot_assets.assets import copilot_usage
    from copilot_assets.onboarding import connect_team
    from copilot_assets.partitions import TEAMS_PARTITION_NAME, team_day_key
    from resources.app_store import StoreResource
    from resources.github import GitHubResource
    from resources.secrets import Secret
    from resources.store import Store
    from simulators import github as github_sim
    from simulators.serve import free_port, start_in_thread

    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))

    gh = start_in_thread(github_sim.create_app({"orgs": {"acme-corp": {"tokens": [TOKEN], "seats": 20}}}))
    monkeypatch.setenv("COPILOT_FLOW_GITHUB_API_URL", gh.url)

    store = Store()  # the default SQLite under the per-test COPILOT_FLOW_HOME
    store.upgrade()
    store.set_flag("integration_copilot_enabled", True)
    team = store.add_team("acme", name="Acme", github_org="acme-corp")
    connect_team(store, team, Secret(TOKEN), verify=False)
    assert store.get_team("acme").copilot_status == "connected"

    day = datetime.now(UTC).date() - timedelta(days=3)
    key = team_day_key("acme", day)
    instance = dg.DagsterInstance.get()  # creates the instance's storage before the webserver opens it
    instance.add_dynamic_partitions(TEAMS_PARTITION_NAME, ["acme"])

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "webserver.log"
    with open(log, "wb") as log_f:
        proc = subprocess.Popen(
            [_webserver_bin(), "-w", str(ROOT / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)],
            cwd=ROOT, env={**os.environ}, stdout=log_f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        result = dg.materialize(
            [copilot_usage],
            instance=instance,
            partition_key=str(key),
            resources={
                "store": StoreResource(database_url=store.url),
                "github": GitHubResource(base_url=gh.url, max_attempts=1, backoff_base=0.001,
                                         max_retry_seconds=1.0, timeout_seconds=10.0),
            },
            tags={"copilot/team": "acme", "copilot/dates": day.isoformat()},
            raise_on_error=False,
        )
        assert result.success, [e.message for e in result.all_events if e.is_failure]
        assert store.count_rows("copilot_usage_daily", team.id, day) == 1

        _wait_for_server(base, proc, log)
        data = _graphql(base, PARTITION_STATUS_QUERY, {"assetKey": {"path": ["copilot_usage"]}})
        node = data["assetNodeOrError"]
        assert node["__typename"] == "AssetNode", node
        assert node["partitionStats"]["numMaterialized"] == 1
        assert node["partitionStats"]["numFailed"] == 0
        statuses = node["assetPartitionStatuses"]
        assert statuses["__typename"] == "MultiPartitionStatuses"
        assert statuses["primaryDimensionName"] == "date"
        materialized = {
            (r["primaryDimStartKey"], r["primaryDimEndKey"], team_slug)
            for r in statuses["ranges"]
            for team_slug in r["secondaryDim"].get("materializedPartitions", [])
        }
        assert materialized == {(day.isoformat(), day.isoformat(), "acme")}, statuses
    finally:
        _stop(proc)
        instance.dispose()
        gh.stop()
        store.engine.dispose()
