"""Metric definitions shared by every part of the product (ingestion, insights, docs).

One definition per metric: nobody computes an acceptance rate any other way.
"""

from __future__ import annotations

import calendar
from datetime import date

RATIO_DISPLAY_DIGITS = 4
"""Decimals a ratio is *shown* with (metadata, CLI, insight facts, export). Stored ratios are exact: rounding
belongs to display (329/1085 is stored as 0.30322580645…, shown as 0.3032)."""

# Thresholds and windows: one definition each (ingestion, automation, insights and docs use these names)
WINDOW_DAYS = 28
"""GitHub's latest-report window: onboarding pulls it, coverage and insight facts are measured over it, and
the nightly's gap horizon defaults to it."""
NIGHTLY_WINDOW_DAYS = 3
"""The nightly on day D re-pulls D-3..D-1: GitHub settles a day within about three UTC days."""
GITHUB_TEAM_MIN_USERS = 5
"""GitHub leaves GitHub teams with fewer Copilot users out of user-teams-1-day; below it a team's rows are
flagged ``below_threshold`` and never described individually in an insight."""
DORMANT_DAYS = 30
"""A seat whose last activity is more than this many days before the snapshot is dormant."""
ACTIVITY_CLEARED_DAYS = 90
"""GitHub clears a seat's ``last_activity_at`` after this many idle days ("never used" includes those)."""


def acceptance_rate(generated: int | None, accepted: int | None) -> float | None:
    """Share of Copilot code generations that were accepted, in [0, 1], exact (not rounded: display rounds).

    ``accepted / generated`` = ``code_acceptance_activity_count / code_generation_activity_count``.

    - ``None`` when nothing was generated (``generated`` is 0, negative or ``None``): "no data" is not 0 %.
    - ``accepted`` of ``None`` (or negative) counts as 0.
    - ``accepted > generated`` (GitHub attributes some acceptances to a day/bucket other than the
      generation) is clamped to 1.0.
    """
    if generated is None or generated <= 0:
        return None
    if accepted is None or accepted <= 0:
        return 0.0
    # min() first keeps the division in float range even for very large integers
    return min(accepted, generated) / generated


def days_in_month(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def seat_cost_usd(seats: int, usd_per_seat_month: float | None, day: date) -> float | None:
    """USD the seats cost on one team-day: ``seats × monthly price / days in the day's month`` (a month's
    price spread evenly over its days, so a whole month of team-days adds up to ``seats × price``). ``None``
    without a price for their plan. Unused seats (never used + dormant) use the same formula."""
    if usd_per_seat_month is None:
        return None
    return seats * usd_per_seat_month / days_in_month(day)


def share_of_budget(used: float | None, budget: float | None) -> float | None:
    """``used / budget`` (exact; may exceed 1 when over budget); ``None`` without a positive budget or usage."""
    if used is None or budget is None or budget <= 0:
        return None
    return used / budget


__all__ = [
    "ACTIVITY_CLEARED_DAYS",
    "DORMANT_DAYS",
    "GITHUB_TEAM_MIN_USERS",
    "NIGHTLY_WINDOW_DAYS",
    "RATIO_DISPLAY_DIGITS",
    "WINDOW_DAYS",
    "acceptance_rate",
    "days_in_month",
    "seat_cost_usd",
    "share_of_budget",
]
