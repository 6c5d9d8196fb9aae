"""Read the frames ``compute_facts`` needs for one team-day (SQLAlchemy Core, strictly one team).

Every select goes through ``resources.queries`` (the one place that scopes a read to its team: tenant
isolation is a product requirement) and filters by the day range.
Logins are never selected: ``copilot_user_daily`` is read as ``user_id`` + counters only.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from copilot_assets.metrics import WINDOW_DAYS
from copilot_assets.parsing import COUNTERS
from resources import queries
from resources import tables as t

from .facts import Facts, compute_facts

_USER_COLUMNS = ("day", "user_id", *COUNTERS, "used_agent", "used_cli", "used_copilot_cloud_agent",
                 "used_copilot_code_review_active", "ai_credits_used")  # never user_login


def _frame(conn: sa.Connection, table: sa.Table, columns: list[str], team_id: int, start: date, end: date):
    rows = queries.team_rows(conn, table, team_id, start, end, columns)
    import pandas as pd  # here, not at module level: definitions load without pandas

    return pd.DataFrame(rows, columns=columns)


def load_fact_frames(conn: sa.Connection, team_id: int, day: date, window_days: int = WINDOW_DAYS) -> dict[str, Any]:
    """Frames for one team-day: ``usage`` (2 × window, for the trend), ``languages``, ``editors``,
    ``models``, ``github_teams``, ``users``, ``pull_requests`` (window), ``seats`` (latest snapshot on or
    before ``day`` as a dict, or None), ``seat_plans`` (that snapshot's plans) and
    ``credits_month_to_date``. Keys match ``compute_facts``' parameters."""
    team_id = int(team_id)
    start = day - timedelta(days=window_days - 1)
    trend_start = day - timedelta(days=2 * window_days - 1)

    def cols(table: sa.Table, drop: tuple[str, ...] = ("team_id",)) -> list[str]:
        return [c.name for c in table.columns if c.name not in drop]

    frames: dict[str, Any] = {
        "usage": _frame(conn, t.copilot_usage_daily, cols(t.copilot_usage_daily), team_id, trend_start, day),
        "languages": _frame(conn, t.copilot_language_daily, cols(t.copilot_language_daily), team_id, start, day),
        "editors": _frame(conn, t.copilot_editor_daily, cols(t.copilot_editor_daily), team_id, start, day),
        "models": _frame(conn, t.copilot_model_daily, cols(t.copilot_model_daily), team_id, start, day),
        "github_teams": _frame(
            conn, t.copilot_github_team_daily, cols(t.copilot_github_team_daily), team_id, start, day
        ),
        "users": _frame(conn, t.copilot_user_daily, list(_USER_COLUMNS), team_id, start, day),
        "pull_requests": _frame(conn, t.copilot_pull_request_daily, cols(t.copilot_pull_request_daily), team_id,
                                start, day),
    }
    frames["seats"] = queries.latest_team_row(conn, t.copilot_seat_snapshots, team_id, day,
                                              cols(t.copilot_seat_snapshots))
    snap_day = frames["seats"]["day"] if frames["seats"] else None
    frames["seat_plans"] = queries.team_rows(conn, t.copilot_seat_plan_daily, team_id, snap_day, snap_day,
                                             cols(t.copilot_seat_plan_daily)) if snap_day is not None else []
    frames["credits_month_to_date"] = queries.ai_credits_month_to_date(conn, team_id, day)
    return frames


def load_facts(
    conn: sa.Connection, team_id: int, day: date, window_days: int = WINDOW_DAYS,
    credit_budget: float | None = None
) -> Facts:
    """``load_fact_frames`` + ``compute_facts`` for one team-day (``credit_budget``: the team's monthly
    AI-credit budget, when set)."""
    frames = load_fact_frames(conn, team_id, day, window_days)
    return compute_facts(
        frames["usage"],
        frames["languages"],
        frames["editors"],
        frames["models"],
        frames["github_teams"],
        frames["seats"],
        day=day,
        window_days=window_days,
        team_id=team_id,
        users=frames["users"],
        pull_requests=frames["pull_requests"],
        seat_plans=frames["seat_plans"],
        credits_month_to_date=frames["credits_month_to_date"],
        credit_budget=credit_budget,
    )
