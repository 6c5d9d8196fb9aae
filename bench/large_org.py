"""Ingest a large org (users report in several shards): wall time and peak RSS.

    python -m bench.large_org --seats 10000              # one team-day
    python -m bench.large_org --seats 10000 --days 28    # the onboarding range: 28-day reports, streamed

``--days 1``: one team-day (yesterday, so the seat snapshot is taken too) of copilot_usage,
copilot_user_usage and copilot_seats. ``--days 28``: the onboarding run (the last 28 complete days, tagged
like onboarding), which reads the 28-day reports — the per-user one (~200k records for 10,000 seats) is
spooled to disk day by day as it streams. One in-process run on a temp instance; the GitHub simulator is
its own process, so the peak RSS reported (``ru_maxrss`` of this process) is Dagster + the client + parsing
+ the store writes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import (
    bench_home,
    emit,
    load_context,
    log,
    machine,
    org_login,
    peak_rss_mb,
    seed_instance,
    sim_calls_by_kind,
    sim_stats,
    start_sim_subprocess,
    stdout_to_stderr,
    stop_proc,
)


def rss_now_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.large_org", description=__doc__.splitlines()[0])
    ap.add_argument("--seats", type=int, default=10000)
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--days", type=int, default=1, help="1 = one team-day; 28 = the onboarding range")
    args = ap.parse_args(argv)
    out: dict[str, Any] = {"bench": "large_org", "seats": args.seats, "shards": args.shards, "days": args.days,
                           "latency_ms": args.latency_ms, "machine": machine(), "load_start": load_context()}
    with stdout_to_stderr(), bench_home() as tmp:
        org = org_login(0)
        sim, url = start_sim_subprocess({"orgs": {org: {"tokens": [f"sim-token-{org}"], "seats": args.seats,
                                                        "shards": args.shards}},
                                         "latency_ms": args.latency_ms}, tmp)
        os.environ["COPILOT_FLOW_GITHUB_API_URL"] = url
        try:
            from copilot_assets.jobs import range_run_request
            from copilot_flow.local_runs import execute_run_request
            from definitions import defs

            store, (slug,), instance = seed_instance(1, history_days=0)
            day = datetime.now(UTC).date() - timedelta(days=1)
            first = day - timedelta(days=args.days - 1)
            rr = range_run_request([slug], first, day, trigger="onboarding" if args.days > 1 else "manual",
                                   run_key="bench")
            out["rss_before_run_mb"] = rss_now_mb()
            log(f"ingest {slug} ({args.seats} seats, {args.shards} shards) for {first}..{day}")
            t = time.monotonic()
            run = execute_run_request(defs, instance, rr, log_level="WARNING")
            out["wall_s"] = round(time.monotonic() - t, 1)
            out["load_end"] = load_context()
            out["run_status"] = run.status.value
            out["peak_rss_mb"] = peak_rss_mb()
            out["rss_after_run_mb"] = rss_now_mb()
            calls = sim_calls_by_kind(url)
            out["rest_calls"] = calls.pop("rest")
            out["downloads"] = calls.pop("downloads")
            out["peak_in_flight_per_org"] = max((sim_stats(url).get("peak_in_flight") or {}).values(), default=0)
            team = store.get_team(slug)
            out["user_rows_stored"] = store.count_rows("copilot_user_daily", team.id)
            out["github_team_rows_stored"] = store.count_rows("copilot_github_team_daily", team.id)
            out["usage_days_stored"] = store.count_rows("copilot_usage_daily", team.id)
        finally:
            stop_proc(sim)
    emit(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
