"""/copilot/billing + every page of /copilot/billing/seats → one copilot_seat_snapshots row."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from copilot_assets.parsing.scalars import (
    DORMANT_AFTER,
    INT_MAX,
    SETTING_MAX,
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

    unique: dict[tuple[str, Any], Mapping[str, Any]] = {}
    for i, seat in enumerate(_objects(seats, "seats")):
        unique[_seat_identity(seat, i, f"seats[{i}]")] = seat

    never_used = dormant = 0
    plans: Counter[str] = Counter()
    for key, seat in unique.items():
        where = f"seat {key[0]}={key[1]}"
        last = parse_timestamp(seat.get("last_activity_at"), f"{where}.last_activity_at")
        if last is None:
            never_used += 1
        elif snapshot - last > DORMANT_AFTER:
            dormant += 1
        plan = _opt_text(seat.get("plan_type"), f"{where}.plan_type", SETTING_MAX)
        if plan:
            plans[plan] += 1

    def breakdown_count(name: str) -> int | None:
        return _int_or_none(breakdown.get(name), f"billing.seat_breakdown.{name}", INT_MAX)

    total = breakdown_count("total")
    plan_type = _opt_text(bill.get("plan_type"), "billing.plan_type", SETTING_MAX)
    if plan_type is None and plans:
        plan_type = plans.most_common(1)[0][0]
    return {
        "day": day,
        "snapshot_at": snapshot,
        "total_seats": len(unique) if total is None else total,
        "active_seats": breakdown_count("active_this_cycle") or 0,
        "inactive_seats": breakdown_count("inactive_this_cycle") or 0,
        "pending_invitation": breakdown_count("pending_invitation") or 0,
        "pending_cancellation": breakdown_count("pending_cancellation") or 0,
        "added_this_cycle": breakdown_count("added_this_cycle") or 0,
        "never_used": never_used,
        "dormant_30d": dormant,
        "listed_seats": len(unique),
        "plan_type": plan_type,
        "seat_management_setting": _opt_text(bill.get("seat_management_setting"),
                                             "billing.seat_management_setting", SETTING_MAX),
    }
