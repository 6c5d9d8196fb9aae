"""The tables of GitHub's 2026 report fields (github-copilot-api.md §1.5): pull requests and Copilot's review
suggestions, the CLI and app surfaces, third-party agents. Re-exported by resources/tables.py."""

from __future__ import annotations

import sqlalchemy as sa

from resources.table_kit import nullable as _nullable
from resources.table_kit import parser_version as _parser_version
from resources.table_kit import team_day_table as _team_day_table

PULL_REQUEST_COUNTS = (
    "total_created",
    "total_reviewed",
    "total_merged",
    "total_suggestions",
    "total_applied_suggestions",
    "total_created_by_copilot",
    "total_reviewed_by_copilot",
    "total_merged_created_by_copilot",
    "total_merged_reviewed_by_copilot",
    "total_copilot_suggestions",
    "total_copilot_applied_suggestions",
)
PULL_REQUEST_MEDIANS = (
    "median_minutes_to_merge",
    "median_minutes_to_merge_copilot_authored",
    "median_minutes_to_merge_copilot_reviewed",
)
copilot_pull_request_daily = _team_day_table(
    "copilot_pull_request_daily",
    *_nullable(sa.BigInteger, *PULL_REQUEST_COUNTS),
    *_nullable(sa.Float, *PULL_REQUEST_MEDIANS),
    _parser_version(),
)
PR_SUGGESTION_COUNTS = ("total_copilot_suggestions", "total_copilot_applied_suggestions")
copilot_pr_suggestion_daily = _team_day_table(
    "copilot_pr_suggestion_daily",
    sa.Column("comment_type", sa.String(200), nullable=False),
    *_nullable(sa.BigInteger, *PR_SUGGESTION_COUNTS),
    _parser_version(),
    key=("comment_type",),
)

SURFACE_COUNTS = ("session_count", "request_count", "prompt_count", "prompt_tokens_sum", "output_tokens_sum")


def _surface_table(name: str, *extra: sa.Column) -> sa.Table:
    """One row per team-day of a ``totals_by_cli{}`` / ``totals_by_copilot_app{}`` object."""
    return _team_day_table(name, *_nullable(sa.BigInteger, *SURFACE_COUNTS),
                           sa.Column("avg_tokens_per_request", sa.Float), *extra, _parser_version())


copilot_cli_daily = _surface_table("copilot_cli_daily", sa.Column("cli_version", sa.String(64)))
copilot_app_daily = _surface_table("copilot_app_daily")
copilot_third_party_agent_daily = _team_day_table(
    "copilot_third_party_agent_daily",
    sa.Column("agent_id", sa.String(200), nullable=False),
    sa.Column("agent_name", sa.String(200)),
    *_nullable(sa.BigInteger, "user_initiated_interaction_count", "session_count"),
    _parser_version(),
    key=("agent_id",),
)
