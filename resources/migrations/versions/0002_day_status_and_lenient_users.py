"""team-day states, lenient per-user rows, onboarding errors, typed licensing reasons

- ``copilot_day_status``: the state of each synced asset's team-day (data / no_report / confirmed_empty),
  filled from the rows and observations already stored.
- ``copilot_user_daily.user_login`` nullable: GitHub documents every field as optional; a record without a
  login is kept by ``user_id``.
- ``teams.onboarding_error``: why onboarding stopped at ``failed``.
- The invented licensing reason ``insufficient_licenses`` (GitHub's retired 5-seat rule) becomes
  ``no_subscription`` (docs/architecture.md decision 12).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "copilot_day_status",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("asset", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("no_report_checks", sa.Integer(), server_default="0", nullable=False),
        sa.Column("first_checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.CheckConstraint("state IN ('data', 'no_report', 'confirmed_empty')",
                           name=op.f("ck_copilot_day_status_state_valid")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_copilot_day_status_team_id_teams"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("team_id", "day", "asset", name=op.f("pk_copilot_day_status")),
    )
    # what is already stored: usage rows and per-user raw reports are data; 'no report' observations of
    # days without data are no_report (re-fetched by the nightly while inside the gap horizon)
    op.execute("""
        INSERT INTO copilot_day_status (team_id, day, asset, state, no_report_checks, first_checked_at,
                                        last_checked_at)
        SELECT team_id, day, 'copilot_usage', 'data', 0, fetched_at, fetched_at FROM copilot_usage_daily
    """)
    op.execute("""
        INSERT INTO copilot_day_status (team_id, day, asset, state, no_report_checks, first_checked_at,
                                        last_checked_at)
        SELECT team_id, day, 'copilot_user_usage', 'data', 0, fetched_at, fetched_at FROM copilot_raw_reports
        WHERE report = 'users-1-day'
    """)
    op.execute("""
        INSERT INTO copilot_day_status (team_id, day, asset, state, reason, no_report_checks, first_checked_at,
                                        last_checked_at)
        SELECT o.team_id, o.day,
               CASE WHEN o.report = 'organization-1-day' THEN 'copilot_usage' ELSE 'copilot_user_usage' END,
               'no_report', 'no_report', COUNT(*), MIN(o.observed_at), MAX(o.observed_at)
        FROM copilot_report_observations o
        WHERE o.report IN ('organization-1-day', 'users-1-day')
          AND NOT EXISTS (SELECT 1 FROM copilot_day_status s WHERE s.team_id = o.team_id AND s.day = o.day
                          AND s.asset = CASE WHEN o.report = 'organization-1-day' THEN 'copilot_usage'
                                             ELSE 'copilot_user_usage' END)
        GROUP BY o.team_id, o.day, o.report
    """)
    with op.batch_alter_table("copilot_user_daily") as batch:
        batch.alter_column("user_login", existing_type=sa.String(length=100), nullable=True)
    with op.batch_alter_table("teams") as batch:
        batch.add_column(sa.Column("onboarding_error", sa.Text(), nullable=True))
    op.execute("UPDATE teams SET copilot_status_reason = 'no_subscription' "
               "WHERE copilot_status_reason = 'insufficient_licenses'")


def downgrade() -> None:
    op.execute("UPDATE teams SET copilot_status_reason = 'insufficient_licenses' "
               "WHERE copilot_status_reason = 'no_subscription'")
    # not batch mode: on SQLite it rebuilds `teams`, and dropping the old one cascades to its children
    op.drop_column("teams", "onboarding_error")
    op.execute("UPDATE copilot_user_daily SET user_login = '' WHERE user_login IS NULL")
    with op.batch_alter_table("copilot_user_daily") as batch:
        batch.alter_column("user_login", existing_type=sa.String(length=100), nullable=False)
    op.drop_table("copilot_day_status")
