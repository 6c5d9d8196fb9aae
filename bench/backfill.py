"""One team's backfill of the Copilot sync assets over the last N days, as one range run.

    python -m bench.backfill --days 365

The run is what a UI backfill over one team's date range becomes (``BackfillPolicy.single_run``: one
run, range tags date-start|team .. date-end|team); executed in-process on a real (temp) instance with
``copilot_flow.local_runs.execute_run_request``. The simulator runs as its own process; REST calls and
downloads are counted from its request log, split by endpoint.
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.backfill", description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seats", type=int, default=50)
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--assets", default="copilot_usage,copilot_user_usage,copilot_seats",
                    help="comma-separated asset keys of the backfill")
    args = ap.parse_args(argv)
    out: dict[str, Any] = {"bench": "backfill", "days": args.days, "seats": args.seats,
                           "latency_ms": args.latency_ms, "machine": machine(), "load_start": load_context()}
    with stdout_to_stderr(), bench_home() as tmp:
        sim, url = start_sim_subprocess({"orgs": {org_login(0): {"tokens": [f"sim-token-{org_login(0)}"],
                                                                 "seats": args.seats}},
                                         "latency_ms": args.latency_ms}, tmp)
        os.environ["COPILOT_FLOW_GITHUB_API_URL"] = url
        try:
            import dagster as dg

            from copilot_assets.jobs import range_run_request
            from copilot_flow.local_runs import execute_run_request
            from definitions import defs

            store, (slug,), instance = seed_instance(1, history_days=0)
            end = datetime.now(UTC).date() - timedelta(days=1)
            start = end - timedelta(days=args.days - 1)
            keys = [dg.AssetKey(k.strip()) for k in args.assets.split(",") if k.strip()]
            rr = range_run_request([slug], start, end, trigger="backfill", run_key="bench", asset_keys=keys)
            log(f"backfill {slug} {start}..{end} ({args.days} days) of {', '.join(k.to_user_string() for k in keys)}")
            t = time.monotonic()
            run = execute_run_request(defs, instance, rr, log_level="WARNING")
            out["wall_s"] = round(time.monotonic() - t, 1)
            out["load_end"] = load_context()
            out["run_status"] = run.status.value
            calls = sim_calls_by_kind(url)
            out["rest_calls"] = calls.pop("rest")
            out["downloads"] = calls.pop("downloads")
            out["calls_by_endpoint"] = {k.removeprefix("kind:"): v for k, v in sorted(calls.items())}
            out["peak_in_flight_per_org"] = max((sim_stats(url).get("peak_in_flight") or {}).values(), default=0)
            team = store.get_team(slug)
            out["usage_days_stored"] = store.count_rows("copilot_usage_daily", team.id)
            out["user_rows_stored"] = store.count_rows("copilot_user_daily", team.id)
            out["peak_rss_mb"] = peak_rss_mb()
            out["naive_rest_calls_estimate"] = 3 * args.days  # one REST call per 1-day report and day
        finally:
            stop_proc(sim)
    emit(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
