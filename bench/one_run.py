"""Where one nightly-sized run's cost goes: one range run of the three sync assets, in-process.

    python -m bench.one_run --teams 50 --pg [--profile run.spy]

Executes one run of ``copilot_sync_job`` (N teams × the 3 nightly days) in this process against the
GitHub simulator (its own process, no latency) and reports: wall time, this process's CPU, the
PostgreSQL server's CPU (with ``--pg``: every ``postgres`` process on the host, so keep the machine
otherwise idle), Dagster events written by type, run creation time, and new PostgreSQL connections per
database (``pg_stat_database.sessions``). Used to find and check the levers of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections import Counter
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    PG_ADMIN_URL,
    bench_home,
    emit,
    load_context,
    log,
    machine,
    seed_instance,
    start_sim_subprocess,
    stdout_to_stderr,
    stop_proc,
)
from bench.profile import sampled, summarize

CLK = os.sysconf("SC_CLK_TCK")


def postgres_cpu_s() -> float:
    """utime+stime (+ reaped children) of every process named postgres on this host."""
    total = 0.0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/comm") as fh:
                if fh.read().strip() != "postgres":
                    continue
            with open(f"/proc/{pid}/stat") as fh:
                f = fh.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in f[11:15]) / CLK
        except OSError:
            continue
    return total


def own_cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def pg_sessions() -> dict[str, list[int]]:
    import sqlalchemy as sa

    engine = sa.create_engine(PG_ADMIN_URL)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT datname, sessions, xact_commit FROM pg_stat_database "
                                        "WHERE datname LIKE :p"), {"p": f"copilot_bench_%_{os.getpid()}_%"})
            return {r[0].split("_")[2]: {"sessions": int(r[1]), "commits": int(r[2])} for r in rows}
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.one_run", description=__doc__.splitlines()[0])
    ap.add_argument("--teams", type=int, default=50)
    ap.add_argument("--pg", action="store_true", help="instance (dagster.postgres.yaml) and app store on PostgreSQL")
    ap.add_argument("--console-log-level", default="WARNING",
                    help="the run's console logger level (a launched run worker uses the job's default)")
    ap.add_argument("--profile", metavar="FILE", help="sample the run with py-spy into FILE (raw stacks) and add "
                    "where its CPU went, per team-day, to the JSON (bench/profile.py)")
    args = ap.parse_args(argv)
    out: dict[str, Any] = {"bench": "one_run", "teams": args.teams, "team_days": 3 * args.teams,
                           "storage": "postgres" if args.pg else "sqlite", "machine": machine(),
                           "load_start": load_context()}
    with stdout_to_stderr(), bench_home(pg=args.pg) as tmp:
        sim, url = start_sim_subprocess({"auto_orgs": True, "latency_ms": 0}, tmp)
        os.environ["COPILOT_FLOW_GITHUB_API_URL"] = url
        try:
            from copilot_assets.jobs import copilot_sync_job, range_run_request
            from definitions import defs

            _, slugs, instance = seed_instance(args.teams)
            out["event_log_storage"] = type(instance.event_log_storage).__name__
            end = datetime.now(UTC).date() - timedelta(days=1)
            rr = range_run_request(slugs, end - timedelta(days=2), end, trigger="nightly", run_key="bench")
            job = defs.resolve_job_def(copilot_sync_job.name)
            t = time.monotonic()  # run creation alone (planned events), on a run that is not executed
            instance.create_run_for_job(job, tags=dict(rr.tags), asset_selection=frozenset(rr.asset_selection or []))
            out["create_run_s"] = round(time.monotonic() - t, 2)
            log(f"a run created in {out['create_run_s']}s; now one created and executed in-process")
            sessions_before = pg_sessions() if args.pg else {}
            ru0 = resource.getrusage(resource.RUSAGE_SELF)
            cpu0, pg0, t0 = own_cpu_s(), postgres_cpu_s(), time.monotonic()
            with sampled(Path(args.profile)) if args.profile else nullcontext():
                res = job.execute_in_process(instance=instance, tags=dict(rr.tags), raise_on_error=False,
                                             run_config={"loggers": {"console": {"config": {
                                                 "log_level": args.console_log_level}}}})
            out["wall_s"] = round(time.monotonic() - t0, 1)
            ru1 = resource.getrusage(resource.RUSAGE_SELF)
            out["cpu_s"] = {"this_process": round(own_cpu_s() - cpu0, 1),
                            "this_process_user": round(ru1.ru_utime - ru0.ru_utime, 1),
                            "this_process_system": round(ru1.ru_stime - ru0.ru_stime, 1)}
            if args.pg:
                out["cpu_s"]["postgres_server"] = round(postgres_cpu_s() - pg0, 1)
                after = pg_sessions()
                out["pg_new_connections"] = {db: after[db]["sessions"] - sessions_before.get(db, {}).get(
                    "sessions", 0) for db in after}
            out["run_status"] = res.dagster_run.status.value
            recs = instance.get_records_for_run(res.dagster_run.run_id, limit=1_000_000).records
            out["events"] = dict(Counter(
                r.event_log_entry.dagster_event_type.value if r.event_log_entry.dagster_event_type else "LOG"
                for r in recs))
            out["events_total"] = len(recs)
            if args.profile:
                out["profile"] = summarize(Path(args.profile), out["team_days"])
            out["load_end"] = load_context()
        finally:
            stop_proc(sim)
    emit(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
