"""/copilot/billing + every page of /copilot/billing/seats → one copilot_seat_snapshots row, and one
copilot_seat_plan_daily row per plan_type (GitHub's plan per seat)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from copilot_assets.parsing.scalars import (
    DORMANT_AFTER,
    INT_MAX,
    SETTING_MAX,
    UNKNOWN_KEY,
    _int_or_none,
    _object,
    _objects,
    _opt_text,
    parse_timestamp,
    to_utc,
)


def _seat_identity(seat: Mapping[str, Any], index: int, where: str) -> tuple[str, Any]:
    assignee = seat.get("assignee")
    if assignee is None:
        return ("seat", index)
    assignee = _object(assignee, f"{where}.assignee")
    assignee_id = assignee.get("id")
    if isinstance(assignee_id, int) and not isinstance(assignee_id, bool):
        return ("id", assignee_id)
    login = assignee.get("login") if assignee.get("login") is not None else assignee.get("slug")
    if isinstance(login, str) and login:
        return ("login", login.lower())
    return ("seat", index)


def _unique_seats(seats: list[dict]) -> dict[tuple[str, Any], Mapping[str, Any]]:
    """Seats de-duplicated by assignee id (else login; pages can repeat rows); the last one wins."""
    unique: dict[tuple[str, Any], Mapping[str, Any]] = {}
    for i, seat in enumerate(_objects(seats, "seats")):
        unique[_seat_identity(seat, i, f"seats[{i}]")] = seat
    return unique


def _seat_states(seats: list[dict], snapshot_at: datetime) -> list[tuple[str | None, str]]:
    """(the seat's own plan_type or None, "never_used" | "dormant" | "active") per de-duplicated seat."""
    snapshot = to_utc(snapshot_at)
    out: list[tuple[str | None, str]] = []
    for key, seat in _unique_seats(seats).items():
        where = f"seat {key[0]}={key[1]}"
        last = parse_timestamp(seat.get("last_activity_at"), f"{where}.last_activity_at")
        state = "never_used" if last is None else "dormant" if snapshot - last > DORMANT_AFTER else "active"
        out.append((_opt_text(seat.get("plan_type"), f"{where}.plan_type", SETTING_MAX), state))
    return out


def parse_seat_plans(billing: dict, seats: list[dict], snapshot_at: datetime, day: date) -> list[dict]:
    """Seats per plan: one copilot_seat_plan_daily row (without team_id) per plan_type, sorted by plan.

    A seat's plan is its own ``plan_type``, else billing's ``plan_type``, else ``"unknown"``. ``seats``,
    ``never_used`` and ``dormant_30d`` count the de-duplicated seats of that plan with the rules of
    ``parse_seats``, so the plans add up to its ``listed_seats``, ``never_used`` and ``dormant_30d``.
    Prices and costs are added by ``copilot_assets.cost``."""
    bill = _object(billing, "billing")
    default = _opt_text(bill.get("plan_type"), "billing.plan_type", SETTING_MAX) or UNKNOWN_KEY
    rows: dict[str, dict[str, Any]] = {}
    for plan, state in _seat_states(seats, snapshot_at):
        row = rows.setdefault(plan or default, {"day": day, "plan_type": plan or default, "seats": 0,
                                                "never_used": 0, "dormant_30d": 0})
        row["seats"] += 1
        row["never_used"] += state == "never_used"
        row["dormant_30d"] += state == "dormant"
    return [rows[k] for k in sorted(rows)]


def parse_seats(billing: dict, seats: list[dict], snapshot_at: datetime, day: date) -> dict:
    """``GET /orgs/{org}/copilot/billing`` + all pages of ``/copilot/billing/seats`` → one
    copilot_seat_snapshots row (without team_id).

    - ``total_seats`` etc. come from ``billing.seat_breakdown`` (``total``, ``active_this_cycle``,
      ``inactive_this_cycle``, ``pending_invitation``, ``pending_cancellation``, ``added_this_cycle``); a
      missing count is 0, except a missing ``total`` which falls back to ``listed_seats``.
    - Seats are de-duplicated by assignee id (else login; pages can repeat rows); the last one wins.
      ``listed_seats`` is the de-duplicated count.
    - ``never_used``: seats without ``last_activity_at``. GitHub also clears ``last_activity_at`` after 90
      days without activity (and needs IDE telemetry to set it), so "never used" really means "never used,
      or idle for 90+ days, or telemetry off".
    - ``dormant_30d``: last activity more than 30 days before ``snapshot_at``.
    - ``plan_type``: billing's ``plan_type``, else the most common seat ``plan_type``, else None.
    - Timestamps with offsets (``-06:00``) are parsed as aware datetimes; naive ones are taken as UTC.
    """
    bill = _object(billing, "billing")
    breakdown = _object(bill.get("seat_breakdown"), "billing.seat_breakdown")
    snapshot = to_utc(snapshot_at)
    states = _seat_states(seats, snapshot)
    never_used = sum(1 for _, state in states if state == "never_used")
    dormant = sum(1 for _, state in states if state == "dormant")
    plans = Counter(plan for plan, _ in states if plan)

    def breakdown_count(name: str) -> int | None:
        return _int_or_none(breakdown.get(name), f"billing.seat_breakdown.{name}", INT_MAX)

    total = breakdown_count("total")
    plan_type = _opt_text(bill.get("plan_type"), "billing.plan_type", SETTING_MAX)
    if plan_type is None and plans:
        plan_type = plans.most_common(1)[0][0]
    return {
        "day": day,
        "snapshot_at": snapshot,
        "total_seats": len(states) if total is None else total,
        "active_seats": breakdown_count("active_this_cycle") or 0,
        "inactive_seats": breakdown_count("inactive_this_cycle") or 0,
        "pending_invitation": breakdown_count("pending_invitation") or 0,
        "pending_cancellation": breakdown_count("pending_cancellation") or 0,
        "added_this_cycle": breakdown_count("added_this_cycle") or 0,
        "never_used": never_used,
        "dormant_30d": dormant,
        "listed_seats": len(states),
        "plan_type": plan_type,
        "seat_management_setting": _opt_text(bill.get("seat_management_setting"),
                                             "billing.seat_management_setting", SETTING_MAX),
    }
