"""Render the org overview of many teams and the per-team reports: wall time per render.

    python -m bench.reports --teams 1000 [--sample 20]

Seeds N connected teams with 90 days of usage rows, a seat snapshot each and a few days GitHub had no report
for, straight into a fresh SQLite app store; then times ``copilot_org_overview``'s work (the rows of every
team, its PNG and its table) and, for ``--sample`` teams, a team report's work (the series from the store and
the chart grid of ``copilot_team_report``) and the HTML file of ``copilot-flow report``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import bench_home, emit, load_context, log, machine, peak_rss_mb, seed_teams, stdout_to_stderr

DAYS = 90


def _seed_usage(store: Any, n_days: int) -> int:
    import sqlalchemy as sa

    from resources import tables

    end = datetime.now(UTC).date() - timedelta(days=1)
    now = datetime.now(UTC)
    rows, states, seats = [], [], []
    for t in store.list_teams():
        for k in range(n_days):
            day = end - timedelta(days=k)
            if (t.id + k) % 17 == 0:  # a day GitHub had no report for
                states.append({"team_id": t.id, "day": day, "asset": "copilot_usage", "state": "no_report",
                               "reason": "http_204", "no_report_checks": 1, "first_checked_at": now,
                               "last_checked_at": now})
                continue
            dau = 10 + (t.id * 7 + k * 3) % 40
            gen = 200 + (t.id + k) % 300
            acc = gen * (20 + (t.id + 2 * k) % 50) // 100
            rows.append({"team_id": t.id, "day": day, "daily_active_users": dau, "weekly_active_users": dau + 5,
                         "code_generation_activity_count": gen, "code_acceptance_activity_count": acc,
                         "acceptance_rate": acc / gen, "source_report": "organization-1-day", "fetched_at": now})
        seats.append({"team_id": t.id, "day": end, "snapshot_at": now, "total_seats": 60, "active_seats": 45,
                      "inactive_seats": 15, "pending_invitation": 0, "pending_cancellation": 0,
                      "added_this_cycle": 2, "never_used": 5, "dormant_30d": 4, "listed_seats": 60})
    with store.engine.begin() as conn:
        conn.execute(sa.insert(tables.copilot_usage_daily), rows)
        conn.execute(sa.insert(tables.copilot_day_status), states)
        conn.execute(sa.insert(tables.copilot_seat_snapshots), seats)
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.reports", description=__doc__.splitlines()[0])
    ap.add_argument("--teams", type=int, default=1000)
    ap.add_argument("--sample", type=int, default=20)
    args = ap.parse_args(argv)
    out: dict[str, Any] = {"bench": "reports", "teams": args.teams, "days": DAYS, "machine": machine(),
                           "load_start": load_context()}
    with stdout_to_stderr(), bench_home():
        from report_assets.charts import grid_png
        from report_assets.html import team_report_html
        from report_assets.overview import overview_markdown, overview_png, overview_rows
        from report_assets.series import team_report_data
        from resources.app_store import store_for

        store = store_for()
        t = time.monotonic()
        seed_teams(store, args.teams, history_days=0)
        out["usage_rows"] = _seed_usage(store, DAYS)
        out["seed_s"] = round(time.monotonic() - t, 1)
        log(f"seeded {args.teams} teams × {DAYS} days in {out['seed_s']}s")
        end = datetime.now(UTC).date() - timedelta(days=1)
        grid_png(team_report_data(store, store.list_teams()[0], end))  # matplotlib's one-time font setup

        t = time.monotonic()
        rows = overview_rows(store, end)
        png = overview_png(rows)
        md = overview_markdown(rows)
        out["overview_s"] = round(time.monotonic() - t, 3)
        out["overview_png_kib"] = round(len(png) / 1024, 1)
        out["overview_markdown_kib"] = round(len(md) / 1024, 1)
        out["teams_needing_attention"] = sum(1 for r in rows if r.attention)

        teams = store.list_teams()[:: max(1, args.teams // args.sample)][: args.sample]
        per_team, html_s, sizes = [], [], []
        for team in teams:
            t = time.monotonic()
            data = team_report_data(store, team, end)
            png = grid_png(data)
            per_team.append(time.monotonic() - t)
            sizes.append(len(png))
        for team in teams[:5]:
            t = time.monotonic()
            team_report_html(team_report_data(store, team, end))
            html_s.append(time.monotonic() - t)
        out["team_report_s"] = {"median": round(statistics.median(per_team), 3), "max": round(max(per_team), 3),
                                "n": len(per_team)}
        out["team_report_png_kib_median"] = round(statistics.median(sizes) / 1024, 1)
        out["team_html_report_s"] = {"median": round(statistics.median(html_s), 3), "max": round(max(html_s), 3),
                                     "n": len(html_s)}
        out["peak_rss_mb"] = peak_rss_mb()
        out["load_end"] = load_context()
    emit(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
