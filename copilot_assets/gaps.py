"""Gaps: team-days of the synced assets that still have no data inside the gap horizon (decision 11 of
docs/architecture.md).

A team-day is missing when it has no rows yet — never fetched, failed (an outage, a 429 storm, a failed
night) or GitHub answered "no report yet" (204/404/empty). The nightly re-fetches every missing team-day of
``copilot_usage`` and ``copilot_user_usage`` inside the horizon (default 28 days), in runs that carry only
the missing days (runs of consecutive days), never a whole span from the first gap to the last. A day
that leaves the horizon still without a report is recorded once as ``confirmed_empty`` with the reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from copilot_assets.metrics import NIGHTLY_WINDOW_DAYS
from resources.store import Store

GAP_ASSETS = ("copilot_usage", "copilot_user_usage")  # seats cannot be backfilled: GitHub keeps no history
DONE_STATES = ("data", "confirmed_empty")


def gap_window(tick_day: date, horizon_days: int) -> tuple[date, date]:
    """The days the gap finder looks at on the night of ``tick_day``: the horizon's days before the
    nightly window (the window itself, D-3..D-1, is re-pulled by the nightly run anyway)."""
    return tick_day - timedelta(days=horizon_days), tick_day - timedelta(days=NIGHTLY_WINDOW_DAYS + 1)


def missing_days(store: Store, team_ids: Iterable[int], start: date, end: date,
                 assets: Sequence[str] = GAP_ASSETS) -> dict[int, dict[str, list[date]]]:
    """``{team_id: {asset: [days]}}``: days in [start, end] of each asset without data and not confirmed
    empty. Teams and assets without a gap are left out."""
    ids = list(team_ids)
    states = store.day_states(ids, assets, start, end)
    span = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    out: dict[int, dict[str, list[date]]] = {}
    for team_id in ids:
        for asset in assets:
            days = [d for d in span if states.get((team_id, asset, d)) not in DONE_STATES]
            if days:
                out.setdefault(team_id, {})[asset] = days
    return out


def consecutive_runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Sorted days → (first, last) of each run of consecutive days."""
    runs: list[tuple[date, date]] = []
    for d in sorted(set(days)):
        if runs and d == runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    return runs


@dataclass(frozen=True)
class GapRun:
    """One gap-fill run: these assets, these consecutive days, these consecutive teams."""

    assets: tuple[str, ...]
    start: date
    end: date
    teams: tuple[str, ...]

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def plan_gap_runs(missing: Mapping[str, Mapping[str, Sequence[date]]], team_order: Sequence[str],
                  max_teams_per_run: int) -> list[GapRun]:
    """``{team: {asset: missing days}}`` → the fewest runs that fetch exactly the missing team-days.

    Per team and asset, the missing days become runs of consecutive days; a team's runs with the same days
    share one run for both assets; teams with the same (assets, days) that are consecutive in the team
    partition order share a range run (at most ``max_teams_per_run``), as the nightly's runs do. A range
    covers every key between its ends, so only consecutive teams are grouped."""
    by_span: dict[tuple[str, date, date], set[str]] = defaultdict(set)  # (team, start, end) → assets
    for team, per_asset in missing.items():
        for asset, days in per_asset.items():
            for start, end in consecutive_runs(days):
                by_span[(team, start, end)].add(asset)
    groups: dict[tuple[tuple[str, ...], date, date], set[str]] = defaultdict(set)
    for (team, start, end), assets in by_span.items():
        groups[(tuple(sorted(assets)), start, end)].add(team)
    runs: list[GapRun] = []
    for (assets, start, end), teams in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
        chunk: list[str] = []
        for slug in team_order:
            if slug in teams:
                chunk.append(slug)
                if len(chunk) >= max_teams_per_run:
                    runs.append(GapRun(assets, start, end, tuple(chunk)))
                    chunk = []
            elif chunk:
                runs.append(GapRun(assets, start, end, tuple(chunk)))
                chunk = []
        if chunk:
            runs.append(GapRun(assets, start, end, tuple(chunk)))
    return runs


__all__ = [
    "GAP_ASSETS",
    "GapRun",
    "consecutive_runs",
    "gap_window",
    "missing_days",
    "plan_gap_runs",
]
