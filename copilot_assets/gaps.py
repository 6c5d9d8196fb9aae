"""Gap detection: team-days of the last 28 complete days with neither usage rows nor an observed
'no report' (an outage, a 429 storm, a failed night). The nightly fills them (design §9.4)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import sqlalchemy as sa

from resources import tables

GAP_LOOKBACK_DAYS = 28


def missing_days(conn: sa.Connection, team_ids: Iterable[int], start: date, end: date) -> dict[int, list[date]]:
    """For each team id, the days in [start, end] with no usage row and no 'no report' observation."""
    ids = list(team_ids)
    if not ids or start > end:
        return {}
    u, o = tables.copilot_usage_daily, tables.copilot_report_observations
    present: dict[int, set[date]] = {i: set() for i in ids}
    q = sa.union(
        sa.select(u.c.team_id, u.c.day).where(u.c.team_id.in_(ids), u.c.day.between(start, end)),
        sa.select(o.c.team_id, o.c.day).where(o.c.team_id.in_(ids), o.c.day.between(start, end),
                                               o.c.report == "organization-1-day"),
    )
    for team_id, day in conn.execute(q):
        present[team_id].add(day if isinstance(day, date) else date.fromisoformat(str(day)))
    span = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    return {i: [d for d in span if d not in present[i]] for i in ids if any(d not in present[i] for d in span)}
