"""`copilot-flow export`: one team's usage, seats and insights for a date range, as CSV or Parquet.

One row per team-day in [from, to] (every day of the range, also days without data): the team's usage
row, its seat snapshot of that day (if one was taken) and its insight (if one was written), LEFT JOINed on
the day; then the 2026 fields (agent, code-review, CLI and app active users; pull requests; CLI and app
sessions; third-party agents summed over agents; AI credits summed over users, month to date and the share
of the team's budget) and the seat costs of the day. An empty cell is "GitHub did not say", never 0. Every
query goes through ``resources.queries`` (scoped to the team's id in one place), so another
team's rows can never leak into an export.

The file is written atomically (a temp file in the target directory, then ``os.replace``): a failure never
leaves a half-written file, and an existing file is only replaced by a complete one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from copilot_assets.metrics import RATIO_DISPLAY_DIGITS, share_of_budget
from copilot_flow.files import out_path, write_atomic
from resources import queries, tables
from resources.store import Store
from resources.validation import InvalidInput, parse_day

MAX_RANGE_DAYS = 400
FORMATS = ("csv", "parquet")
FLOAT_DECIMALS = RATIO_DISPLAY_DIGITS  # stored ratios are exact; the file shows them rounded
FLOAT_FORMAT = f"%.{FLOAT_DECIMALS}f"

# (export column, source column) in the order they appear in the file
USAGE_COLUMNS = [
    ("daily_active_users", "daily_active_users"),
    ("weekly_active_users", "weekly_active_users"),
    ("monthly_active_users", "monthly_active_users"),
    ("code_generation_activity_count", "code_generation_activity_count"),
    ("code_acceptance_activity_count", "code_acceptance_activity_count"),
    ("loc_suggested_to_add_sum", "loc_suggested_to_add_sum"),
    ("loc_added_sum", "loc_added_sum"),
    ("chat_interactions", "chat_interactions"),
    ("agent_interactions", "agent_interactions"),
    ("acceptance_rate", "acceptance_rate"),
]
SEAT_COLUMNS = [
    ("total_seats", "total_seats"),
    ("active_seats", "active_seats"),
    ("never_used_seats", "never_used"),
    ("dormant_30d_seats", "dormant_30d"),
]
INSIGHT_COLUMNS = [
    ("insight_source", "source"),
    ("insight_headline", "headline"),
]
SURFACE_USER_COLUMNS = [(c, c) for c in tables.SURFACE_USER_FIELDS]
PR_COLUMNS = [
    ("prs_created", "total_created"),
    ("prs_reviewed", "total_reviewed"),
    ("prs_merged", "total_merged"),
    ("pr_median_minutes_to_merge", "median_minutes_to_merge"),
    ("prs_created_by_copilot", "total_created_by_copilot"),
    ("prs_reviewed_by_copilot", "total_reviewed_by_copilot"),
    ("prs_merged_created_by_copilot", "total_merged_created_by_copilot"),
    ("prs_merged_reviewed_by_copilot", "total_merged_reviewed_by_copilot"),
    ("pr_median_minutes_to_merge_copilot_authored", "median_minutes_to_merge_copilot_authored"),
    ("pr_median_minutes_to_merge_copilot_reviewed", "median_minutes_to_merge_copilot_reviewed"),
    ("pr_suggestions", "total_suggestions"),
    ("pr_applied_suggestions", "total_applied_suggestions"),
    ("pr_copilot_suggestions", "total_copilot_suggestions"),
    ("pr_copilot_applied_suggestions", "total_copilot_applied_suggestions"),
]
CLI_COLUMNS = [(f"cli_{c}", c) for c in tables.SURFACE_COUNTS]
APP_COLUMNS = [(f"app_{c}", c) for c in tables.SURFACE_COUNTS]
THIRD_PARTY_COLUMNS = [("third_party_agent_interactions", "user_initiated_interaction_count"),
                       ("third_party_agent_sessions", "session_count")]
CREDIT_COLUMNS = ["ai_credits_used", "ai_credits_month_to_date", "ai_credit_budget", "ai_credit_budget_share"]
SEAT_COST_COLUMNS = [(c, c) for c in tables.SEAT_COSTS]
# (table, its columns, summed per day over its rows): one query each, LEFT JOINed on the day
PARTS = [
    (tables.copilot_usage_daily, USAGE_COLUMNS + SURFACE_USER_COLUMNS, False),
    (tables.copilot_seat_snapshots, SEAT_COLUMNS + SEAT_COST_COLUMNS, False),
    (tables.insights, INSIGHT_COLUMNS, False),
    (tables.copilot_pull_request_daily, PR_COLUMNS, False),
    (tables.copilot_cli_daily, CLI_COLUMNS, False),
    (tables.copilot_app_daily, APP_COLUMNS, False),
    (tables.copilot_third_party_agent_daily, THIRD_PARTY_COLUMNS, True),
]
FLOAT_COLUMNS = ("acceptance_rate", "pr_median_minutes_to_merge", "pr_median_minutes_to_merge_copilot_authored",
                 "pr_median_minutes_to_merge_copilot_reviewed", *CREDIT_COLUMNS, *tables.SEAT_COSTS)
TEXT_COLUMNS = ("team", "insight_source", "insight_headline")
# the original columns first, the 2026 ones after them (so existing readers of the file keep their positions)
COLUMNS = ["day", "team", *(c for c, _ in USAGE_COLUMNS + SEAT_COLUMNS + INSIGHT_COLUMNS),
           *(c for cols in (SURFACE_USER_COLUMNS, PR_COLUMNS, CLI_COLUMNS, APP_COLUMNS, THIRD_PARTY_COLUMNS)
             for c, _ in cols), *CREDIT_COLUMNS, *(c for c, _ in SEAT_COST_COLUMNS)]


@dataclass(frozen=True)
class ExportRequest:
    team: str
    start: date
    end: date
    fmt: str
    out: Path


def validate_request(team: str, start: str, end: str, fmt: str, out: str) -> ExportRequest:
    """Check everything that does not need the store. Raises InvalidInput with one clear message."""
    fmt_l = (fmt or "").strip().lower()
    if fmt_l not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}: use {' or '.join(FORMATS)}")
    d_from = parse_day(start, "--from date")
    d_to = parse_day(end, "--to date")
    if d_from > d_to:
        raise InvalidInput(f"--from {d_from} is after --to {d_to}")
    days = (d_to - d_from).days + 1
    if days > MAX_RANGE_DAYS:
        raise InvalidInput(f"range {d_from}..{d_to} is {days} days; at most {MAX_RANGE_DAYS} days per export")
    return ExportRequest(team=team, start=d_from, end=d_to, fmt=fmt_l, out=out_path(out))


def _frame(conn: sa.Connection, table: sa.Table, cols: list[tuple[str, str]], team_id: int, start: date,
           end: date, summed: bool = False) -> pd.DataFrame:
    """The team's rows of one table in the range (or, ``summed``, their per-day sums), its columns renamed to
    the export's names."""
    sources = [src for _, src in cols]
    if summed:
        sums = queries.daily_sums(conn, table, team_id, sources, start, end)
        rows = [{"day": d, **v} for d, v in sorted(sums.items())]
    else:
        rows = queries.team_rows(conn, table, team_id, start, end, ["day", *sources])
    names = [n for n, _ in cols]
    frame = pd.DataFrame([[r["day"], *(r[src] for _, src in cols)] for r in rows], columns=["day", *names])
    frame["day"] = [d.isoformat() if isinstance(d, date) else str(d)[:10] for d in frame["day"]]
    return frame


def build_frame(store: Store, team_slug: str, start: date, end: date) -> pd.DataFrame:
    """The export table: one row per day in [start, end] for the team, columns in ``COLUMNS`` order."""
    team = store.get_team(team_slug)  # UnknownTeam (an InvalidInput) for an unknown slug
    days = [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
    frame = pd.DataFrame({"day": days, "team": team.slug})
    with store.engine.connect() as conn:
        for table, cols, summed in PARTS:
            part = _frame(conn, table, cols, team.id, start, end, summed)
            frame = frame.merge(part, on="day", how="left", validate="one_to_one")
        frame = frame.merge(_credits(conn, team.id, team.ai_credit_monthly_budget, start, end), on="day",
                            how="left", validate="one_to_one")
    for col in COLUMNS:
        if col == "day" or col in TEXT_COLUMNS:
            frame[col] = frame[col].astype("string")
        elif col in FLOAT_COLUMNS:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("Float64").round(FLOAT_DECIMALS)
        else:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("Int64")
    return frame[COLUMNS].reset_index(drop=True)


def _credits(conn: sa.Connection, team_id: int, budget: float | None, start: date, end: date) -> pd.DataFrame:
    """Per day: AI credits used (a sum over users), month to date (from the first of each day's month, so the
    range may start mid-month), the team's budget and the share of it used month to date."""
    first = start.replace(day=1)
    sums = queries.daily_sums(conn, tables.copilot_user_daily, team_id, ["ai_credits_used"], first, end)
    rows, running, d = [], None, first
    while d <= end:
        if d.day == 1:
            running = None
        used = sums.get(d, {}).get("ai_credits_used")
        if used is not None:
            running = (running or 0.0) + float(used)
        if d >= start:
            rows.append({"day": d.isoformat(), "ai_credits_used": used, "ai_credits_month_to_date": running,
                         "ai_credit_budget": budget, "ai_credit_budget_share": share_of_budget(running, budget)})
        d += timedelta(days=1)
    return pd.DataFrame(rows, columns=["day", *CREDIT_COLUMNS])


def to_csv_text(frame: pd.DataFrame) -> str:
    """Deterministic CSV: fixed column order, no index, '\\n' line ends, 4-decimal floats, empty = missing."""
    return frame[COLUMNS].to_csv(index=False, lineterminator="\n", float_format=FLOAT_FORMAT, na_rep="")


def write_frame(frame: pd.DataFrame, fmt: str, path: Path) -> None:
    if fmt == "csv":
        text = to_csv_text(frame)

        def write(tmp: str) -> None:
            with open(tmp, "w", encoding="utf-8", newline="") as f:
                f.write(text)
    elif fmt == "parquet":
        def write(tmp: str) -> None:
            frame[COLUMNS].to_parquet(tmp, engine="pyarrow", index=False)
    else:  # validate_request rejects it first
        raise InvalidInput(f"unknown format {fmt!r}: use {' or '.join(FORMATS)}")
    write_atomic(path, write)


def export(store: Store, req: ExportRequest) -> pd.DataFrame:
    frame = build_frame(store, req.team, req.start, req.end)
    write_frame(frame, req.fmt, req.out)
    return frame
