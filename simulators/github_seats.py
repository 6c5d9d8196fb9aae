"""Seats and billing of a simulated org: each seat's last activity matches the last day its user was active
(never-used and dormant users by their kind), ``plan_type`` per seat (every ``enterprise_every``-th seat on
Copilot Enterprise when the org is configured so, else Copilot Business), and the billing seat breakdown."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from simulators.github_org import IDES, active_bitmap, login, user_id, user_kind


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def last_activity_day(org: str, i: int, today: date, seats: int) -> date | None:
    kind = user_kind(i)
    if kind == "never":
        return None
    if kind == "dormant":
        return today - timedelta(days=31 + i % 50)
    for k in range(0, 29):
        d = today - timedelta(days=k)
        if active_bitmap(org, d, seats)[i - 1]:
            return d
    return None


def created_days_ago(i: int) -> int:
    return 1 + (i * 3) % 60 if user_kind(i) == "never" else 90 + (i * 7) % 400


def plan_type(i: int, enterprise_every: int = 0) -> str:
    """Seat i's plan: Copilot Enterprise for every ``enterprise_every``-th seat (0: none), else Business."""
    return "enterprise" if enterprise_every and i % enterprise_every == 0 else "business"


def seat(org: str, i: int, today: date, seats: int, enterprise_every: int = 0) -> dict[str, Any]:
    created = today - timedelta(days=created_days_ago(i))
    last = last_activity_day(org, i, today, seats)
    last_dt = datetime.combine(last, time(8 + i % 10, i % 60, 0), tzinfo=UTC) if last is not None else None
    editor = f"{IDES[i % len(IDES)]}/1.{90 + i % 10}.0/copilot/1.{200 + i % 50}.0" if last else None
    return {
        "created_at": _iso(datetime.combine(created, time(9, 0), tzinfo=UTC)),
        "updated_at": _iso(datetime.combine(created, time(9, 0), tzinfo=UTC)),
        "pending_cancellation_date": (today + timedelta(days=10)).isoformat() if i % 97 == 0 else None,
        "last_activity_at": _iso(last_dt) if last_dt else None,
        "last_activity_editor": editor,
        "last_authenticated_at": _iso(last_dt) if last_dt else None,
        "plan_type": plan_type(i, enterprise_every),
        "assignee": {
            "login": login(i),
            "id": user_id(i),
            "node_id": f"U_sim{user_id(i)}",
            "type": "User",
            "site_admin": False,
            "url": f"https://api.github.com/users/{login(i)}",
        },
        "assigning_team": None,
    }


def seats_page(org: str, seats: int, today: date, page: int, per_page: int,
               enterprise_every: int = 0) -> list[dict[str, Any]]:
    lo = (page - 1) * per_page + 1
    hi = min(seats, page * per_page)
    return [seat(org, i, today, seats, enterprise_every) for i in range(lo, hi + 1)]


def billing(org: str, seats: int, today: date) -> dict[str, Any]:
    active = added = pending = 0
    for i in range(1, seats + 1):
        last = last_activity_day(org, i, today, seats)
        if last is not None and (today - last).days <= 30:
            active += 1
        if created_days_ago(i) <= 30:
            added += 1
        if i % 97 == 0:
            pending += 1
    return {
        "seat_breakdown": {
            "total": seats,
            "added_this_cycle": added,
            "pending_cancellation": pending,
            "pending_invitation": 0,
            "active_this_cycle": active,
            "inactive_this_cycle": seats - active,
        },
        "seat_management_setting": "assign_selected",
        "ide_chat": "enabled",
        "platform_chat": "enabled",
        "cli": "enabled",
        "public_code_suggestions": "block",
        "plan_type": "business",
    }
