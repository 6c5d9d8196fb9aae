"""What creating one nightly-sized run costs the process that creates it (the daemon, for the nightly).

    python -m bench.run_creation --teams 50 --runs 5 [--pg] [--profile run_creation.spy]

Seeds N teams as ``teams`` partitions, then creates ``--runs`` runs of ``copilot_sync_job`` over all of them ×
the 3 nightly days (each writes one planned event per asset and team-day: 3 × 3 × N), without executing them,
and reports the wall and CPU seconds of each creation, the events written and, with ``--profile``, where the
CPU went (bench/profile.py).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import bench_home, emit, load_context, log, machine, seed_instance, stdout_to_stderr
from bench.one_run import own_cpu_s, postgres_cpu_s
from bench.profile import sampled, summarize


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.run_creation", description=__doc__.splitlines()[0])
    ap.add_argument("--teams", type=int, default=50)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pg", action="store_true", help="instance on PostgreSQL (dagster.postgres.yaml)")
    ap.add_argument("--profile", metavar="FILE", help="sample the creations with py-spy into FILE")
    args = ap.parse_args(argv)
    out: dict[str, Any] = {"bench": "run_creation", "teams": args.teams, "runs": args.runs,
                           "storage": "postgres" if args.pg else "sqlite", "machine": machine(),
                           "load_start": load_context()}
    with stdout_to_stderr(), bench_home(pg=args.pg):
        import dagster as dg

        from copilot_assets.jobs import copilot_sync_job, range_run_request
        from definitions import defs

        _, slugs, instance = seed_instance(args.teams)
        out["event_log_storage"] = type(instance.event_log_storage).__name__
        end = datetime.now(UTC).date() - timedelta(days=1)
        rr = range_run_request(slugs, end - timedelta(days=2), end, trigger="nightly", run_key="bench")
        job = defs.resolve_job_def(copilot_sync_job.name)
        walls, cpus, run_ids = [], [], []
        pg0 = postgres_cpu_s() if args.pg else 0.0
        with sampled(Path(args.profile)) if args.profile else nullcontext():
            for i in range(args.runs):
                c0, t0 = own_cpu_s(), time.monotonic()
                run = instance.create_run_for_job(job, tags=dict(rr.tags),
                                                  asset_selection=frozenset(rr.asset_selection or []))
                walls.append(time.monotonic() - t0)
                cpus.append(own_cpu_s() - c0)
                run_ids.append(run.run_id)
                log(f"run {i + 1}/{args.runs} created in {walls[-1]:.2f}s")
        if args.pg:
            out["postgres_server_cpu_s_per_run"] = round((postgres_cpu_s() - pg0) / args.runs, 2)
        out["create_run_s"] = {"median": round(statistics.median(walls), 2), "max": round(max(walls), 2),
                               "all": [round(w, 2) for w in walls]}
        out["create_run_cpu_s"] = {"median": round(statistics.median(cpus), 2)}
        planned = instance.get_records_for_run(run_ids[-1], of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
                                               limit=1_000_000).records
        out["planned_events_per_run"] = len(planned)
        out["planned_partitions_per_run"] = len({(r.event_log_entry.dagster_event.asset_key,
                                                  r.event_log_entry.dagster_event.partition) for r in planned})
        if args.profile:
            out["profile"] = summarize(Path(args.profile), 3 * args.teams * args.runs)
        out["load_end"] = load_context()
    emit(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
