"""The data behind every chart of a team report: daily series from the store, with the days GitHub had no
report for, the days still missing, and GitHub's semantic changes marked — never drawn as drops to zero.

Pure reads (through ``resources.queries``, scoped to the team); rendering is in ``report_assets/charts.py``.
A series whose column the store does not have, or that has no value in the window, is left out (a chart
is drawn only "when present").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from copilot_assets.metrics import NIGHTLY_WINDOW_DAYS, WINDOW_DAYS
from resources import queries, tables
from resources.store import Store, Team

REPORT_DAYS = 90

# GitHub's changes of meaning that make a step in a trend line (GitHub changelog; docs/architecture.md §6)
SEMANTIC_CHANGES: tuple[tuple[date, str], ...] = (
    (date(2026, 4, 10), "Copilot CLI counted in the totals"),
    (date(2026, 6, 15), "users seen only server-side counted as active"),
    (date(2026, 7, 2), "AI credits include previously missed usage"),
    (date(2026, 7, 28), "Copilot app users counted as active"),
)


@dataclass(frozen=True)
class SeriesSpec:
    """One line of a chart: a column of a one-row-per-team-day table (or a per-user column summed per day)."""

    name: str
    label: str
    table: str
    column: str
    chart: str  # the chart it is drawn on
    per_user_sum: bool = False  # a per-user column summed over the team's users of each day


SERIES: tuple[SeriesSpec, ...] = (
    SeriesSpec("daily_active_users", "daily active users", "copilot_usage_daily", "daily_active_users", "adoption"),
    SeriesSpec("weekly_active_users", "weekly active users", "copilot_usage_daily", "weekly_active_users",
               "adoption"),
    SeriesSpec("seats", "seats", "copilot_seat_snapshots", "total_seats", "adoption"),
    SeriesSpec("acceptance_rate", "acceptance rate", "copilot_usage_daily", "acceptance_rate", "acceptance"),
    SeriesSpec("cloud_agent_users", "cloud-agent users", "copilot_usage_daily",
               "daily_active_copilot_cloud_agent_users", "agents"),
    SeriesSpec("code_review_users", "code-review users (active)", "copilot_usage_daily",
               "daily_active_copilot_code_review_users", "agents"),
    SeriesSpec("prs_merged", "PRs merged", "copilot_pull_request_daily", "total_merged", "pull_requests"),
    SeriesSpec("median_minutes_to_merge", "median minutes to merge", "copilot_pull_request_daily",
               "median_minutes_to_merge", "merge_time"),
    SeriesSpec("never_used_cost_usd", "never-used seats (USD/day)", "copilot_seat_snapshots",
               "never_used_cost_usd", "seat_cost"),
    SeriesSpec("dormant_30d_cost_usd", "seats idle 30+ days (USD/day)", "copilot_seat_snapshots",
               "dormant_30d_cost_usd", "seat_cost"),
    SeriesSpec("ai_credits_used", "AI credits used", "copilot_user_daily", "ai_credits_used", "credits",
               per_user_sum=True),
)

CHARTS: dict[str, str] = {  # chart → title, in report order
    "adoption": "Active users against seats",
    "acceptance": "Code acceptance rate",
    "agents": "Agent and code-review users",
    "pull_requests": "Pull requests merged",
    "merge_time": "Median time to merge (minutes)",
    "seat_cost": "Cost of unused seats",
    "credits": "AI credits used",
}


@dataclass
class Series:
    spec: SeriesSpec
    points: dict[date, float | None]  # every day of the window; None = no value that day (a gap)

    @property
    def present(self) -> bool:
        return any(v is not None for v in self.points.values())


@dataclass
class TeamReportData:
    team: Team
    start: date
    end: date
    series: dict[str, Series]
    no_report_days: list[date]  # GitHub answered "no report" (or confirmed empty) for the usage report
    missing_days: list[date]  # inside the gap horizon: no data and no answer stored yet (the nightly re-fetches)
    first_data_day: date | None  # the first day of the window with usage data (earlier days were never synced)
    coverage: tuple[int, int]  # days with usage data of the last 28 complete days
    changes: list[tuple[date, str]]  # semantic changes inside the window
    insight: dict[str, Any] | None = None
    status_events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def charts(self) -> dict[str, list[Series]]:
        """Chart → its present series, in report order (a chart without any value is left out)."""
        out: dict[str, list[Series]] = {}
        for chart in CHARTS:
            lines = [s for s in self.series.values() if s.spec.chart == chart and s.present]
            if lines:
                out[chart] = lines
        return out


def _has_column(table: str, column: str) -> bool:
    t = tables.metadata.tables.get(table)
    return t is not None and column in t.c


def _series(conn: Any, spec: SeriesSpec, team_id: int, start: date, end: date) -> Series:
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    values: dict[date, float | None] = dict.fromkeys(days)
    if not _has_column(spec.table, spec.column):
        return Series(spec, values)
    rows = queries.team_rows(conn, spec.table, team_id, start, end, ["day", spec.column])
    for r in rows:
        day = r["day"] if isinstance(r["day"], date) else date.fromisoformat(str(r["day"]))
        v = r[spec.column]
        if v is None:
            continue
        values[day] = (values[day] or 0.0) + float(v) if spec.per_user_sum else float(v)
    return Series(spec, values)


def team_report_data(store: Store, team: Team, end: date, days: int = REPORT_DAYS) -> TeamReportData:
    """Everything a team's report shows, for the ``days`` days ending at ``end`` (inclusive)."""
    start = end - timedelta(days=days - 1)
    with store.engine.connect() as conn:
        series = {spec.name: _series(conn, spec, team.id, start, end) for spec in SERIES}
        insight = queries.latest_team_row(conn, "insights", team.id, end)
    states = store.day_states([team.id], ["copilot_usage"], start, end)
    no_report = sorted(d for (_, _, d), s in states.items() if s in ("no_report", "confirmed_empty"))
    have = series["daily_active_users"].points
    horizon = end - timedelta(days=WINDOW_DAYS - 1)  # the nightly re-fetches missing days of this horizon only
    missing = [d for d in have if d >= horizon and have[d] is None and (team.id, "copilot_usage", d) not in states]
    covered = sum(1 for d, v in have.items() if d >= horizon and v is not None)
    first = min((d for d, v in have.items() if v is not None), default=None)
    if insight is not None:
        insight = {**insight, "cited_numbers": json.loads(insight["cited_numbers"]),
                   "actions": json.loads(insight["actions"])}
    return TeamReportData(
        team=team, start=start, end=end, series=series, no_report_days=no_report, missing_days=missing,
        first_data_day=first,
        coverage=(covered, WINDOW_DAYS), changes=[(d, why) for d, why in SEMANTIC_CHANGES if start <= d <= end],
        insight=insight, status_events=list(reversed(store.status_events(team.id, limit=20))),
    )


def settling_days(end: date) -> list[date]:
    """The newest days GitHub may still not have a report for (the nightly window): not a gap yet."""
    return [end - timedelta(days=i) for i in range(NIGHTLY_WINDOW_DAYS)]


__all__ = ["CHARTS", "REPORT_DAYS", "SEMANTIC_CHANGES", "SERIES", "Series", "SeriesSpec", "TeamReportData",
           "settling_days", "team_report_data"]
