"""the 2026 report fields, seat plans and costs, AI-credit budgets, parser versions

- ``copilot_pull_request_daily``, ``copilot_pr_suggestion_daily``, ``copilot_cli_daily``, ``copilot_app_daily``,
  ``copilot_third_party_agent_daily`` (the aggregate report's ``pull_requests{}``, ``totals_by_cli``,
  ``totals_by_copilot_app``, ``totals_by_3rd_party_agent``) and ``copilot_seat_plan_daily`` (seats per plan).
- ``copilot_usage_daily``: cloud-agent, code-review, CLI and Copilot app active-user counts.
- ``copilot_user_daily``: the 2026 ``used_*`` flags, ``ai_credits_used``, the adoption phase.
- ``copilot_seat_snapshots``: seat cost, cost of never-used and of dormant seats per team-day.
- ``teams.ai_credit_monthly_budget``.
- ``parser_version`` on every derived table.

Every new column is nullable and stays null on existing rows (null = GitHub did not say, or not derived yet):
``copilot-flow rederive`` / ``copilot_rederive_job`` fills them from ``copilot_raw_reports``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ADDED_COLUMNS: dict[str, list[tuple[str, sa.types.TypeEngine]]] = {
    "copilot_usage_daily": [
        *((name, sa.Integer()) for name in (
            "daily_active_cli_users",
            "daily_active_copilot_cloud_agent_users", "weekly_active_copilot_cloud_agent_users",
            "monthly_active_copilot_cloud_agent_users",
            "daily_active_copilot_code_review_users", "weekly_active_copilot_code_review_users",
            "monthly_active_copilot_code_review_users",
            "daily_passive_copilot_code_review_users", "weekly_passive_copilot_code_review_users",
            "monthly_passive_copilot_code_review_users",
            "daily_active_copilot_app_users",
            "parser_version",
        )),
    ],
    **{name: [("parser_version", sa.Integer())] for name in (
        "copilot_language_daily", "copilot_editor_daily", "copilot_model_daily", "copilot_feature_daily",
        "copilot_github_team_daily")},
    "copilot_user_daily": [
        ("used_copilot_cloud_agent", sa.Boolean()), ("used_copilot_code_review_active", sa.Boolean()),
        ("used_copilot_code_review_passive", sa.Boolean()), ("used_copilot_app", sa.Boolean()),
        ("ai_credits_used", sa.Float()), ("ai_adoption_phase", sa.String(length=64)),
        ("ai_adoption_phase_number", sa.Integer()), ("parser_version", sa.Integer()),
    ],
    "copilot_seat_snapshots": [
        ("seat_cost_usd", sa.Float()), ("never_used_cost_usd", sa.Float()), ("dormant_30d_cost_usd", sa.Float()),
        ("parser_version", sa.Integer()),
    ],
    "teams": [("ai_credit_monthly_budget", sa.Float())],
}


def _team_day_table(name: str, *columns: sa.Column, key: tuple[str, ...] = ()) -> None:
    op.create_table(
        name,
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *columns,
        sa.Column("parser_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f(f"fk_{name}_team_id_teams"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("team_id", "day", *key, name=op.f(f"pk_{name}")),
    )


def _nullable(kind: type[sa.types.TypeEngine], *names: str) -> list[sa.Column]:
    return [sa.Column(name, kind(), nullable=True) for name in names]


SURFACE = ("session_count", "request_count", "prompt_count", "prompt_tokens_sum", "output_tokens_sum")
NEW_TABLES = ("copilot_seat_plan_daily", "copilot_pull_request_daily", "copilot_pr_suggestion_daily",
              "copilot_cli_daily", "copilot_app_daily", "copilot_third_party_agent_daily")


def upgrade() -> None:
    for table, columns in ADDED_COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name, kind in columns:
                batch.add_column(sa.Column(name, kind, nullable=True))
    _team_day_table(
        "copilot_seat_plan_daily",
        sa.Column("plan_type", sa.String(length=32), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("never_used", sa.Integer(), nullable=False),
        sa.Column("dormant_30d", sa.Integer(), nullable=False),
        *_nullable(sa.Float, "seat_price_usd_month", "seat_cost_usd", "never_used_cost_usd", "dormant_30d_cost_usd"),
        key=("plan_type",),
    )
    _team_day_table(
        "copilot_pull_request_daily",
        *_nullable(sa.BigInteger, "total_created", "total_reviewed", "total_merged", "total_suggestions",
                   "total_applied_suggestions", "total_created_by_copilot", "total_reviewed_by_copilot",
                   "total_merged_created_by_copilot", "total_merged_reviewed_by_copilot",
                   "total_copilot_suggestions", "total_copilot_applied_suggestions"),
        *_nullable(sa.Float, "median_minutes_to_merge", "median_minutes_to_merge_copilot_authored",
                   "median_minutes_to_merge_copilot_reviewed"),
    )
    _team_day_table(
        "copilot_pr_suggestion_daily",
        sa.Column("comment_type", sa.String(length=200), nullable=False),
        *_nullable(sa.BigInteger, "total_copilot_suggestions", "total_copilot_applied_suggestions"),
        key=("comment_type",),
    )
    _team_day_table("copilot_cli_daily", *_nullable(sa.BigInteger, *SURFACE),
                    sa.Column("avg_tokens_per_request", sa.Float(), nullable=True),
                    sa.Column("cli_version", sa.String(length=64), nullable=True))
    _team_day_table("copilot_app_daily", *_nullable(sa.BigInteger, *SURFACE),
                    sa.Column("avg_tokens_per_request", sa.Float(), nullable=True))
    _team_day_table(
        "copilot_third_party_agent_daily",
        sa.Column("agent_id", sa.String(length=200), nullable=False),
        sa.Column("agent_name", sa.String(length=200), nullable=True),
        *_nullable(sa.BigInteger, "user_initiated_interaction_count", "session_count"),
        key=("agent_id",),
    )


def downgrade() -> None:
    for name in reversed(NEW_TABLES):
        op.drop_table(name)
    # plain nullable columns: ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35 has it). Not batch mode: on SQLite it
    # rebuilds the table, and dropping the old `teams` cascades to every table that references it.
    for table, columns in ADDED_COLUMNS.items():
        for name, _kind in reversed(columns):
            op.drop_column(table, name)
