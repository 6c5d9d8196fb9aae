"""Definitions load, schedule and sensor ticks, and the UI partition-status query with N teams.

    python -m bench.definitions --teams 1000

With N teams × every date since 2025-10-10 (the team × day partitions):
- ``definitions_load_s``: a fresh interpreter importing definitions.py and building the repository
  (median of 3), and the whole process wall time;
- each tick evaluated in-process against a real (temp, SQLite) instance like the daemon does it:
  copilot_nightly_sync, copilot_teams_sensor (first tick adds N partitions; steady tick),
  copilot_onboarding_sensor (worst case: all N teams just connected → N run requests; steady: all
  complete), copilot_license_probe, copilot_failure_sensor's body (``apply_run_failure`` for a failed
  50-team nightly run, 150 failed team-days);
- the UI's GraphQL partition-status query of copilot_usage through a real `dagster-webserver` subprocess
  (cold and warm), with one materialized day for every team.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import ROOT, bench_home, emit, load_context, log, machine, nightly_tick, seed_teams, stdout_to_stderr

PARTITION_STATUS_QUERY = """
query PartitionStatus($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    __typename
    ... on AssetNode {
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

LOAD_SNIPPET = (
    "import time; t = time.perf_counter(); from definitions import defs; "
    "defs.get_repository_def(); print(time.perf_counter() - t)"
)


def definitions_load() -> dict[str, Any]:
    inner, outer = [], []
    for _ in range(3):
        t = time.monotonic()
        res = subprocess.run([sys.executable, "-W", "ignore", "-c", LOAD_SNIPPET], cwd=ROOT,
                             capture_output=True, text=True, check=True)
        outer.append(time.monotonic() - t)
        inner.append(float(res.stdout.strip().splitlines()[-1]))
    return {"import_and_build_s": round(statistics.median(inner), 2),
            "process_wall_s": round(statistics.median(outer), 2)}


def timed(fn: Any) -> tuple[float, Any]:
    t = time.monotonic()
    value = fn()
    return round(time.monotonic() - t, 2), value


def webserver_query(tmp: Path, n_expected: int) -> dict[str, Any]:
    import httpx

    from simulators.serve import free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    exe = Path(sys.executable).parent / "dagster-webserver"
    log_path = tmp / "webserver.log"
    with open(log_path, "wb") as log_f:
        proc = subprocess.Popen([str(exe), "-w", str(ROOT / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)],
                                cwd=ROOT, env=dict(os.environ), stdout=log_f, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    out: dict[str, Any] = {}
    try:
        t = time.monotonic()
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"webserver exited: {log_path.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/server_info", timeout=2).status_code == 200:
                    break
            if time.monotonic() - t > 120:
                raise RuntimeError("webserver did not start")
            time.sleep(0.25)
        out["webserver_start_s"] = round(time.monotonic() - t, 1)
        for label in ("cold", "warm"):
            t = time.monotonic()
            r = httpx.post(f"{base}/graphql", json={"query": PARTITION_STATUS_QUERY,
                                                    "variables": {"assetKey": {"path": ["copilot_usage"]}}},
                           timeout=600)
            out[f"graphql_partition_status_{label}_s"] = round(time.monotonic() - t, 2)
            body = r.json()
            if body.get("errors"):
                raise RuntimeError(str(body["errors"])[:500])
            node = body["data"]["assetNodeOrError"]
            out["partition_stats"] = node.get("partitionStats")
            out["response_kb"] = round(len(r.content) / 1024, 1)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.definitions", description=__doc__.splitlines()[0])
    ap.add_argument("--teams", type=int, default=1000)
    ap.add_argument("--no-graphql", action="store_true")
    args = ap.parse_args(argv)
    out: dict[str, Any] = {"bench": "definitions", "teams": args.teams, "machine": machine(),
                           "load_start": load_context()}
    out["definitions_load"] = definitions_load()
    with stdout_to_stderr(), bench_home() as tmp:
        os.environ["COPILOT_FLOW_GITHUB_API_URL"] = "http://127.0.0.1:9"  # ticks must not call GitHub
        import dagster as dg

        from copilot_assets.outcomes import apply_failures
        from copilot_assets.partitions import FIRST_REPORT_DAY, TEAMS_PARTITION_NAME, team_day_key
        from copilot_flow.local_runs import schedule_tick, tick_sensor
        from definitions import defs
        from resources.app_store import store_for

        store = store_for()
        t = time.monotonic()
        slugs = seed_teams(store, args.teams, onboarding="syncing_copilot")
        out["seed_s"] = round(time.monotonic() - t, 1)
        log(f"seeded {args.teams} teams in {out['seed_s']}s")
        instance = dg.DagsterInstance.get()
        today = datetime.now(UTC).date()
        out["dates"] = (today - datetime.fromisoformat(FIRST_REPORT_DAY).date()).days
        out["team_day_partitions"] = out["dates"] * args.teams
        ticks: dict[str, float] = {}

        ticks["copilot_teams_sensor_add_all"], _ = timed(lambda: tick_sensor(defs, instance, "copilot_teams_sensor"))
        assert len(instance.get_dynamic_partitions(TEAMS_PARTITION_NAME)) == args.teams
        ticks["copilot_teams_sensor_steady"], _ = timed(lambda: tick_sensor(defs, instance, "copilot_teams_sensor"))
        ticks["copilot_onboarding_sensor_all_onboarding"], data = timed(
            lambda: tick_sensor(defs, instance, "copilot_onboarding_sensor"))
        out["onboarding_run_requests"] = len(data.run_requests or [])
        for team in store.list_teams():
            store.set_onboarding(team.id, "complete")
        ticks["copilot_onboarding_sensor_steady"], _ = timed(
            lambda: tick_sensor(defs, instance, "copilot_onboarding_sensor"))
        ticks["copilot_license_probe"], _ = timed(lambda: tick_sensor(defs, instance, "copilot_license_probe"))

        ticks["copilot_nightly_sync"], data = timed(
            lambda: schedule_tick(defs, instance, "copilot_nightly_sync", nightly_tick()))
        out["nightly_run_requests"] = len(data.run_requests or [])

        def failure_tick() -> Any:
            teams = slugs[:50]
            days = [(today - timedelta(days=k)).isoformat() for k in (1, 2, 3)]
            recs = [{"team": s, "day": d, "error_kind": "server_error", "http_status": 502, "message": "x"}
                    for s in teams for d in days]
            now = datetime.now(UTC)
            return apply_failures(store, run_id="bench-failed-run", tags={"copilot/trigger": "nightly"},
                                  records=recs * 3, run_started_at=now, run_created_at=now,
                                  actor="copilot_failure_sensor")

        ticks["copilot_failure_sensor_50_team_run"], _ = timed(failure_tick)
        out["ticks_s"] = ticks
        out["max_tick_s"] = max(ticks.values())

        if not args.no_graphql:
            day = today - timedelta(days=2)
            t = time.monotonic()
            for s in slugs:
                instance.report_runless_asset_event(dg.AssetMaterialization(
                    asset_key="copilot_usage", partition=str(team_day_key(s, day))))
            out["materializations_seeded"] = len(slugs)
            out["materialize_seed_s"] = round(time.monotonic() - t, 1)
            out["load_before_graphql"] = load_context()
            out.update(webserver_query(tmp, len(slugs)))
        out["load_end"] = load_context()
    emit(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
