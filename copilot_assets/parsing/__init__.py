"""Pure parsers: raw GitHub Copilot report records (dicts) → row dicts for the app store's tables.

Rules shared by every parser here:

- Every field is optional; unknown fields are ignored (the raw report is stored elsewhere, unchanged).
- Rows carry ``day`` (a ``datetime.date``) but no ``team_id`` / ``fetched_at``: the writer adds those.
- Column names are exactly those of ``resources.tables``.
- Counters missing or ``null`` → 0; active-user counts missing or ``null`` → ``None`` (unknown, not 0). The
  fields GitHub added in 2026 (parsing/surfaces.py, the 2026 per-user fields) are ``None`` when missing, never 0
  or False, and an absent object gives no row.
- A counter must be an integer (an integral float such as ``3.0`` is accepted; ``bool`` and strings are
  not), non-negative and within BIGINT range.
- Wrong shapes raise :class:`~resources.github_errors.MalformedReport` (``http_status=None``) naming the
  field — never any other exception.
- Key strings (language/editor/model/feature/GitHub team slug) are truncated to 200 characters, logins to
  100; NUL characters are removed (PostgreSQL rejects them). Rows whose keys collide after that are summed.
- All datetimes returned are timezone-aware UTC.
"""

from __future__ import annotations

from copilot_assets.parsing.org_day import OrgDayRows, org_28_day_items, parse_org_28_day, parse_org_day
from copilot_assets.parsing.scalars import (
    COUNTERS,
    DAY_FMT,
    PARSER_VERSION,
    USAGE_COUNTERS,
    format_day,
    parse_day,
    parse_timestamp,
    to_utc,
)
from copilot_assets.parsing.seats import parse_seat_plans, parse_seats
from copilot_assets.parsing.users import join_users_teams

__all__ = [
    "COUNTERS",
    "DAY_FMT",
    "PARSER_VERSION",
    "USAGE_COUNTERS",
    "OrgDayRows",
    "format_day",
    "join_users_teams",
    "org_28_day_items",
    "parse_day",
    "parse_org_28_day",
    "parse_org_day",
    "parse_seat_plans",
    "parse_seats",
    "parse_timestamp",
    "to_utc",
]
