"""`make demo`: simulators, three demo teams, the onboarding and nightly sync, insights, a summary, the UI.

    python -m copilot_flow.demo [--no-serve] [--port 3000]

Everything runs against local simulators of GitHub and the Anthropic API (no internet), on the embedded
default store (SQLite under $COPILOT_FLOW_HOME) and a persistent Dagster instance under
$COPILOT_FLOW_HOME/dagster_home, so the UI shows the demo's runs, partitions and metadata afterwards.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
GITHUB_PORT = 8787
ANTHROPIC_PORT = 8788

DEMO_APP_ID = 1001  # acme connects through a GitHub App installed on acme-corp (the others with tokens)
DEMO_INSTALLATION_ID = 500001
DEMO_TEAMS = [
    # slug, name, org, simulator config, the status the demo ends with
    # every 5th seat on Copilot Enterprise: the seat cost is priced per plan; acme connects through a GitHub App
    ("acme", "Acme Web Platform", "acme-corp",
     {"seats": 50, "shards": 2, "enterprise_every": 5,
      "app_installation": {"app_id": DEMO_APP_ID, "installation_id": DEMO_INSTALLATION_ID}},
     "connected"),
    ("globex", "Globex Payments", "globex", {"seats": 30}, "token_revoked"),
    # 3 seats are fine (there is no seat-count rule); its owner never enabled the usage-metrics policy
    ("initech", "Initech Tools", "initech", {"seats": 3, "metrics_policy": False}, "insufficient_licenses"),
]


DEMO_AI_CREDIT_BUDGET = 15000.0


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _say(msg: str) -> None:
    print(f"[demo] {msg}", flush=True)


def prepare_home() -> tuple[Path, Path]:
    from resources import settings

    home = settings.home()
    marker = home / ".demo"
    db = home / "copilot_flow.db"
    dagster_home = home / "dagster_home"
    if marker.exists() or not db.exists():  # the demo owns this home: start from a clean slate
        for p in home.glob("copilot_flow.db*"):
            p.unlink()
        shutil.rmtree(dagster_home, ignore_errors=True)
        marker.write_text("created by `make demo`; the demo resets this home on each run\n")
    dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    return home, dagster_home


def demo_app_key() -> tuple[str, str]:
    """The demo GitHub App's key pair (private PEM, public PEM): made at each demo run, kept in memory only —
    GitHub (the simulator) holds the public key, the app store the private key (encrypted)."""
    from simulators.github import new_app_key_pair

    return new_app_key_pair()


def _connects_with_app(cfg: dict) -> bool:
    return "app_installation" in cfg


def start_simulators(app_public_key: str) -> tuple[str, str, list]:
    from simulators import anthropic as anthropic_sim
    from simulators import github as github_sim
    from simulators.serve import start_in_thread

    gh_cfg = {"apps": {str(DEMO_APP_ID): app_public_key},
              "orgs": {org: {"tokens": [] if _connects_with_app(cfg) else [f"demo-{slug}-token"], **cfg}
                       for slug, _, org, cfg, _ in DEMO_TEAMS}}
    gh = start_in_thread(github_sim.create_app(gh_cfg), GITHUB_PORT if _port_free(GITHUB_PORT) else None)
    an = start_in_thread(anthropic_sim.create_app(), ANTHROPIC_PORT if _port_free(ANTHROPIC_PORT) else None)
    os.environ["COPILOT_FLOW_GITHUB_API_URL"] = gh.url
    os.environ["ANTHROPIC_BASE_URL"] = an.url
    os.environ["ANTHROPIC_API_KEY"] = "demo-simulator-key"  # the simulator accepts any key
    return gh.url, an.url, [gh, an]


def seed(store, app_private_key: str) -> None:
    from copilot_assets.onboarding import connect_team, find_installation
    from resources.flags import COPILOT_FLAG
    from resources.github import AppCredential, load_private_key
    from resources.secrets import Secret

    store.set_flag(COPILOT_FLAG, True)
    for slug, name, org, cfg, _ in DEMO_TEAMS:
        try:
            team = store.get_team(slug)
        except Exception:
            team = store.add_team(slug, name=name, github_org=org)
        if _connects_with_app(cfg):  # as `teams connect acme --app-id 1001 --private-key-file key.pem` does
            key = load_private_key(app_private_key)
            app = AppCredential(DEMO_APP_ID, find_installation(team, DEMO_APP_ID, key), key)
            _say(connect_team(store, team, app=app))
        else:
            _say(connect_team(store, team, Secret(f"demo-{slug}-token")))
    store.set_ai_credit_budget(store.get_team("acme").id, DEMO_AI_CREDIT_BUDGET)
    _say(f"acme's AI-credit budget: {DEMO_AI_CREDIT_BUDGET:,.0f} credits per month")


def revoke_in_github(gh_url: str, org: str, cfg: dict) -> None:
    """The customer revokes globex's token in GitHub after connecting (the simulator now answers 401)."""
    httpx.post(f"{gh_url}/_sim/orgs/{org}", json={**cfg, "tokens": ["a-newer-token-we-do-not-have"]}).raise_for_status()


HISTORY_DAYS = 90  # acme's history backfilled by the demo (the team report charts 90 days)
RUN_LOG_LEVEL = "CRITICAL"  # the runs' own log lines and expected failures are in the Dagster UI, not here


def outcome_line(instance, run) -> str:
    """One line for a failed run: per team, what GitHub answered and on how many team-days (no traceback;
    the run's events, with every failed team-day, are in the Dagster UI)."""
    from collections import Counter

    import dagster as dg

    from copilot_assets.failure_sensor import run_failures

    if run.status != dg.DagsterRunStatus.FAILURE:
        return ""
    counts = Counter((f["team"], f["error_kind"], int(f.get("http_status") or 0)) for f in run_failures(instance, run))
    parts = [f"{team}: {kind}" + (f" (HTTP {status})" if status else "") + f" on {n} team-day(s)"
             for (team, kind, status), n in sorted(counts.items())]
    return " — expected: " + "; ".join(parts) if parts else ""


def run_pipeline(store) -> dict:
    import dagster as dg

    from copilot_flow.local_runs import execute_run_request, schedule_tick, tick_sensor
    from definitions import defs

    instance = dg.DagsterInstance.get()
    summary: dict = {"runs": []}

    tick_sensor(defs, instance, "copilot_teams_sensor")  # adds the teams partitions
    _say(f"teams partitions: {instance.get_dynamic_partitions('teams')}")

    # onboarding: syncing_copilot → (28-day sync) → llm_processing → (insights) → complete
    for _ in range(4):
        result = tick_sensor(defs, instance, "copilot_onboarding_sensor")
        for rr in result.run_requests or []:
            run = execute_run_request(defs, instance, rr, log_level=RUN_LOG_LEVEL)
            team = rr.tags.get("copilot/onboarding")
            summary["runs"].append((rr.tags.get("copilot/onboarding_step", "?"), team, run.status.value))
            _say(f"onboarding run {rr.tags.get('copilot/onboarding_step')} for {team}: {run.status.value}"
                 + outcome_line(instance, run))
        if not result.run_requests and all(
            t.onboarding_pipeline_status in ("complete", "failed") for t in store.list_teams()
        ):
            break

    # history, as an analyst backfills it from the UI (Materialize → dates → Launch backfill): acme's 90 days
    from copilot_assets.jobs import range_run_request

    today = datetime.now(UTC).date()
    rr = range_run_request(["acme"], today - timedelta(days=HISTORY_DAYS), today - timedelta(days=29),
                           run_key="demo-backfill", trigger="backfill",
                           asset_keys=[dg.AssetKey("copilot_usage"), dg.AssetKey("copilot_user_usage")])
    run = execute_run_request(defs, instance, rr, log_level=RUN_LOG_LEVEL)
    _say(f"backfill of acme {rr.tags['copilot/dates']}: {run.status.value}" + outcome_line(instance, run))

    # the nightly schedule, as the daemon would evaluate it at 04:45 UTC today
    tick = datetime.now(UTC).replace(hour=4, minute=45, second=0, microsecond=0)
    data = schedule_tick(defs, instance, "copilot_nightly_sync", tick)
    if data.skip_message:
        _say(f"nightly skipped: {data.skip_message}")
    for rr in data.run_requests or []:
        run = execute_run_request(defs, instance, rr, log_level=RUN_LOG_LEVEL)
        summary["runs"].append(("nightly", rr.tags.get("copilot/teams"), run.status.value))
        _say(f"nightly run {rr.tags.get('copilot/dates')} teams {rr.tags.get('copilot/teams')}: {run.status.value}"
             + outcome_line(instance, run))

    # after the nightly: insights of the teams whose latest day changed, then their reports and the overview
    for sensor in ("copilot_insights_automation", "copilot_reports_sensor"):
        for rr in tick_sensor(defs, instance, sensor).run_requests or []:
            run = execute_run_request(defs, instance, rr, log_level=RUN_LOG_LEVEL)
            what = ", ".join(k.to_user_string() for k in rr.asset_selection or [])
            summary["runs"].append((sensor, what, run.status.value))
            _say(f"{sensor}: {what} {rr.tags.get('copilot/teams', '')}: {run.status.value}"
                 + outcome_line(instance, run))
    return summary


def print_summary(store, url: str | None) -> None:
    from click.testing import CliRunner

    from copilot_flow.cli import main as cli
    from resources import settings

    runner = CliRunner()
    report = settings.home() / "acme-report.html"
    print(runner.invoke(cli, ["report", "acme", "--out", str(report)]).output.strip(), flush=True)
    print("\n=== copilot-flow teams list ===", flush=True)
    print(runner.invoke(cli, ["teams", "list"]).output, flush=True)
    for slug, *_rest, expected in DEMO_TEAMS:
        status = store.get_team(slug).copilot_status
        mark = "ok" if status == expected else f"UNEXPECTED (wanted {expected})"
        print(f"  {slug:<8} {status:<22} {mark}")
    print("\n=== copilot-flow insights show acme ===", flush=True)
    print(runner.invoke(cli, ["insights", "show", "acme"]).output, flush=True)
    print("=== copilot-flow teams budget acme ===", flush=True)
    print(runner.invoke(cli, ["teams", "budget", "acme"]).output, flush=True)
    if url:
        print(f"Dagster UI: {url}\n"
              "  - Assets → copilot_usage → Partitions: the team × date grid (acme materialized; globex and "
              "initech failed on the nightly dates)\n"
              "  - Automation: copilot_nightly_sync (04:45 UTC) and the sensors, running\n"
              "  - Materialize → pick dates for team acme → Launch backfill: it runs against the simulator\n"
              "  - copilot_usage → Events/Plots: active users and acceptance rate per team-day", flush=True)


def serve(port: int, dagster_home: Path) -> int:
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home)}
    cmd = [sys.executable, "-m", "dagster", "dev", "-w", str(ROOT / "workspace.yaml"),
           "-h", "127.0.0.1", "-p", str(port)]
    _say("starting `dagster dev` (webserver + daemon); Ctrl-C stops everything")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        try:
            return proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            return 130


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="copilot_flow.demo", description=__doc__)
    parser.add_argument("--no-serve", action="store_true", help="print the summary and exit")
    parser.add_argument("--port", type=int, default=3000)
    args = parser.parse_args(argv)

    started = time.monotonic()
    # Dagster announces its beta/preview parameters at import: not the demo's story
    warnings.filterwarnings("ignore", message=r".*(is currently in beta|is currently in preview|Non-compliant tag)")
    home, dagster_home = prepare_home()
    _say(f"home {home}; Dagster instance {dagster_home}")
    app_private_key, app_public_key = demo_app_key()
    gh_url, an_url, servers = start_simulators(app_public_key)
    _say(f"GitHub simulator {gh_url}; Anthropic simulator {an_url}")

    from resources.app_store import store_for

    store = store_for()
    seed(store, app_private_key)
    revoke_in_github(gh_url, "globex", DEMO_TEAMS[1][3])
    _say("globex's token was revoked in GitHub after connecting (the simulator now answers 401)")
    run_pipeline(store)
    url = None if args.no_serve else f"http://127.0.0.1:{args.port}"
    print_summary(store, url)
    _say(f"done in {time.monotonic() - started:.1f}s")
    if args.no_serve:
        for s in servers:
            s.stop()
        return 0
    return serve(args.port, dagster_home)


if __name__ == "__main__":
    sys.exit(main())
