"""Shared helpers of the benchmark scripts: environment, seeding, simulator, load context, JSON output.

Every bench script builds a throw-away environment under a temp dir (Dagster instance from the repo's
dagster.yaml, SQLite app store, a fresh Fernet key) and prints exactly ONE JSON object on stdout.
Progress goes to stderr.
"""

from __future__ import annotations

import atexit
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def emit(obj: dict[str, Any]) -> None:
    """The one JSON object a bench script prints."""
    print(json.dumps(obj, default=str), flush=True)


def machine() -> dict[str, Any]:
    mem_gib = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "mem_gib": mem_gib, "python": platform.python_version(),
            "platform": platform.platform(terse=True), "cpu_reference_s": cpu_reference_s()}


def cpu_reference_s() -> float:
    """CPU seconds of a fixed pure-Python loop (the best of 3): how fast this machine runs Python. Machines of
    the same kind differ (2026-12-02: the same commit's `bench.nightly --teams 200` took 53.3 s on one and
    116.3 s on the next), so compare results across sessions with this figure beside them."""
    best = float("inf")
    for _ in range(3):
        t = time.process_time()
        s = 0
        for i in range(3_000_000):
            s += i * i % 7
        best = min(best, time.process_time() - t)
    return round(best, 3)


def load_context() -> dict[str, Any]:
    """Load average when the measurement starts/ends: other processes (tests) share the 2 cores."""
    one, five, fifteen = os.getloadavg()
    return {"loadavg_1m": round(one, 2), "loadavg_5m": round(five, 2), "loadavg_15m": round(fifteen, 2)}


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)  # Linux: KiB


def cpu_seconds(who: int) -> float:
    ru = resource.getrusage(who)
    return ru.ru_utime + ru.ru_stime


PG_ADMIN_URL = os.environ.get("COPILOT_FLOW_BENCH_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


@contextmanager
def pg_databases(*names: str) -> Iterator[dict[str, str]]:
    """Fresh PostgreSQL databases (dropped afterwards) on the server of ``COPILOT_FLOW_BENCH_PG_URL``."""
    import sqlalchemy as sa

    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    tag = f"{os.getpid()}_{int(time.time())}"
    dbs = {n: f"copilot_bench_{n}_{tag}" for n in names}
    try:
        with admin.connect() as conn:
            for db in dbs.values():
                conn.execute(sa.text(f'CREATE DATABASE "{db}"'))
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        yield {n: f"{base}/{db}" for n, db in dbs.items()}
    finally:
        with admin.connect() as conn:
            for db in dbs.values():
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def bench_home(keep: bool = False, pg: bool = False) -> Iterator[Path]:
    """A temp home: DAGSTER_HOME (repo dagster.yaml), SQLite app store, secret key; env vars exported so
    run workers and code servers started from here inherit them.

    ``pg=True``: the Dagster instance (repo's dagster.postgres.yaml) and the app store each on a fresh
    PostgreSQL database — the production setup of docs/deployment.md."""
    from cryptography.fernet import Fernet

    with pg_databases("dagster", "app") if pg else nullcontext({}) as urls:
        tmp = Path(tempfile.mkdtemp(prefix="copilot-bench-"))
        dagster_home = tmp / "dagster_home"
        dagster_home.mkdir()
        shutil.copy(ROOT / ("dagster.postgres.yaml" if pg else "dagster.yaml"), dagster_home / "dagster.yaml")
        os.environ["DAGSTER_HOME"] = str(dagster_home)
        os.environ["COPILOT_FLOW_HOME"] = str(tmp)
        if urls:
            os.environ["DAGSTER_PG_URL"] = urls["dagster"]
        os.environ["COPILOT_FLOW_DATABASE_URL"] = urls.get("app") or f"sqlite:///{tmp / 'copilot_flow.db'}"
        os.environ["COPILOT_FLOW_SECRET_KEY"] = Fernet.generate_key().decode()
        # insights runs that automation may launch must never reach the real Anthropic API
        os.environ["ANTHROPIC_BASE_URL"] = "http://127.0.0.1:9"
        os.environ.pop("ANTHROPIC_API_KEY", None)
        try:
            yield tmp
        finally:
            if not keep:
                shutil.rmtree(tmp, ignore_errors=True)


def team_slug(i: int) -> str:
    return f"team-{i:05d}"


def org_login(i: int) -> str:
    return f"bench-org-{i:05d}"


def seed_teams(store: Any, n: int, *, onboarding: str = "complete", history_days: int = 40,
               offset: int = 0) -> list[str]:
    """N connected teams (flag on), token ``sim-token-<org>`` (the simulator's auto_orgs token).

    ``history_days``: record the days before the nightly window as synced (``copilot_day_status`` = data for
    both synced assets) so the nightly's gap finder sees the steady state (no gap-fill runs); 0 = a fresh
    install (every team gets gap-fill runs)."""
    import sqlalchemy as sa

    from copilot_assets.onboarding import connect_team
    from resources import tables
    from resources.flags import COPILOT_FLAG
    from resources.secrets import Secret

    store.set_flag(COPILOT_FLAG, True)
    slugs: list[str] = []
    states: list[dict[str, Any]] = []
    today = datetime.now(UTC).date()
    now = datetime.now(UTC)
    for i in range(offset, offset + n):
        slug, org = team_slug(i), org_login(i)
        team = store.add_team(slug, name=f"Bench team {i}", github_org=org)
        connect_team(store, team, Secret(f"sim-token-{org}"), verify=False)
        if onboarding != "syncing_copilot":
            store.set_onboarding(team.id, onboarding)
        slugs.append(slug)
        for k in range(4, 4 + history_days):
            for asset in ("copilot_usage", "copilot_user_usage"):
                states.append({"team_id": team.id, "day": today - timedelta(days=k), "asset": asset, "state": "data",
                               "no_report_checks": 0, "first_checked_at": now, "last_checked_at": now,
                               "run_id": "bench-seed"})
    if states:
        with store.engine.begin() as conn:
            conn.execute(sa.insert(tables.copilot_day_status), states)
    return slugs


def seed_instance(n: int, *, history_days: int = 40) -> tuple[Any, list[str], Any]:
    """N connected teams (``seed_teams``) that are also dynamic ``teams`` partitions of this home's
    Dagster instance: returns (app store, slugs, instance)."""
    import dagster as dg

    from copilot_assets.partitions import TEAMS_PARTITION_NAME
    from resources.app_store import store_for

    store = store_for()
    slugs = seed_teams(store, n, history_days=history_days)
    instance = dg.DagsterInstance.get()
    instance.add_dynamic_partitions(TEAMS_PARTITION_NAME, slugs)
    return store, slugs, instance


def nightly_tick(today: date | None = None) -> datetime:
    d = today or datetime.now(UTC).date()
    return datetime(d.year, d.month, d.day, 4, 45, tzinfo=UTC)


def start_sim_subprocess(cfg: dict[str, Any], workdir: Path) -> tuple[subprocess.Popen, str]:
    """The GitHub simulator as its own process (keeps its CPU and memory out of the measured process)."""
    import httpx

    from simulators.serve import free_port

    port = free_port()
    cfg_path = workdir / "sim.json"
    cfg_path.write_text(json.dumps(cfg))
    proc = subprocess.Popen([sys.executable, "-m", "simulators.github", "--port", str(port), "--config",
                             str(cfg_path)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    atexit.register(stop_proc, proc)  # also when the bench dies on an exception
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_sim/stats", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("GitHub simulator did not start")


def stop_proc(proc: subprocess.Popen, timeout: float = 20) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def sim_stats(url: str) -> dict[str, Any]:
    import httpx

    return httpx.get(f"{url}/_sim/stats", timeout=30).json()


def sim_calls_by_kind(url: str) -> dict[str, int]:
    """REST calls and downloads from the simulator's request log."""
    import httpx

    reqs = httpx.get(f"{url}/_sim/requests", timeout=60).json()
    out: dict[str, int] = {"rest": 0, "downloads": 0}
    for r in reqs:
        if r.get("endpoint_kind") == "download":
            out["downloads"] += 1
        else:
            out["rest"] += 1
        key = f"kind:{r.get('endpoint_kind')}"
        out[key] = out.get(key, 0) + 1
    return out


def summarize_peaks(stats: dict[str, Any]) -> dict[str, Any]:
    peaks = stats.get("peak_in_flight") or {}
    reqs = stats.get("requests") or {}
    return {
        "github_calls": sum(reqs.values()),
        "orgs": len(reqs),
        "peak_in_flight_per_org_max": max(peaks.values(), default=0),
        "peak_in_flight_per_org_histogram": {str(k): sum(1 for v in peaks.values() if v == k)
                                             for k in sorted(set(peaks.values()))},
    }


@contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Child processes (code server, daemon, webserver) inherit fd 1: point it at stderr while they run
    so the script's stdout carries only its one JSON object."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
