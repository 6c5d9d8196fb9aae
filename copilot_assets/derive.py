"""Raw report records → the rows of every derived table, stamped with ``PARSER_VERSION``.

The ONE code path from what GitHub sent to what is stored: the sync fetchers (copilot_assets/assets.py) call
it with what they just downloaded, the re-derive job (copilot_assets/rederive.py) with what
``copilot_raw_reports`` kept, so a fresh sync and a re-derive of the same raw reports cannot differ. Rows come
without ``team_id`` and ``day`` (the store adds them, one team-day per transaction).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from copilot_assets import parsing
from copilot_assets.metrics import seat_cost_usd
from resources.cost import SeatPrices
from resources.tables import SEAT_COSTS

Tables = dict[str, list[dict[str, Any]]]
USAGE_TABLES = tuple(parsing.OrgDayRows(usage={}).tables())
USER_TABLES = ("copilot_user_daily", "copilot_github_team_daily")
SEAT_TABLES = ("copilot_seat_snapshots", "copilot_seat_plan_daily")


def stamped(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows as stored: without ``day`` (the writer's key), with the parser version that derived them."""
    return [{**{c: v for c, v in r.items() if c != "day"}, "parser_version": parsing.PARSER_VERSION} for r in rows]


def usage_tables(record: dict, day: date, source: str, fetched_at: datetime) -> tuple[parsing.OrgDayRows, Tables]:
    """One aggregate day object (an organization-1-day line or a day_totals[] item of organization-28-day)
    → (its parsed rows, the rows of every ``USAGE_TABLES`` table). An absent 2026 object empties its table."""
    rows = parsing.parse_org_day(record, default_day=day)
    rows.usage.update(source_report=source, fetched_at=fetched_at)
    return rows, {name: stamped(table_rows) for name, table_rows in rows.tables().items()}


def user_usage_tables(users: list[dict], team_records: list[dict] | None, day: date,
                      skipped: Counter[str]) -> tuple[Tables, list[dict], list[dict]]:
    """users-1-day records (⋈ user-teams-1-day records of the day) → (tables, user rows, GitHub team rows).
    ``team_records`` None: user-teams was not asked for that day (before its floor), so
    ``copilot_github_team_daily`` is not named and whatever is stored for it stays."""
    user_rows, team_rows = parsing.join_users_teams(users, team_records or [], day, skipped=skipped)
    tables: Tables = {"copilot_user_daily": stamped(user_rows)}
    if team_records is not None:
        tables["copilot_github_team_daily"] = stamped(team_rows)
    return tables, user_rows, team_rows


def priced_plans(plan_rows: list[dict[str, Any]], prices: SeatPrices, day: date) -> list[dict[str, Any]]:
    """Seats per plan with the plan's monthly price and what the team-day costs: all its seats, its
    never-used seats, its dormant seats (``metrics.seat_cost_usd``; null when the plan has no price)."""
    out = []
    for row in plan_rows:
        price = prices.monthly(row["plan_type"])
        out.append({**row, "seat_price_usd_month": price,
                    "seat_cost_usd": seat_cost_usd(row["seats"], price, day),
                    "never_used_cost_usd": seat_cost_usd(row["never_used"], price, day),
                    "dormant_30d_cost_usd": seat_cost_usd(row["dormant_30d"], price, day)})
    return out


def seat_tables(billing: dict, seats: list[dict], snapshot_at: datetime, day: date,
                prices: SeatPrices) -> tuple[Tables, dict[str, Any]]:
    """/copilot/billing + every seats page → (tables, the snapshot row). The snapshot's costs are the sums
    over its plans, null when a plan with seats has no price (a partial sum would understate)."""
    snapshot = parsing.parse_seats(billing, seats, snapshot_at, day)
    plans = priced_plans(parsing.parse_seat_plans(billing, seats, snapshot_at, day), prices, day)
    for cost in SEAT_COSTS:
        values = [p[cost] for p in plans]
        snapshot[cost] = None if None in values else sum(values, 0.0)
    return {"copilot_seat_snapshots": stamped([snapshot]), "copilot_seat_plan_daily": stamped(plans)}, snapshot
