"""GitHub App credentials, alert targets and sent alerts

- ``credentials`` gains a ``kind`` (``token`` | ``github_app``); an App credential holds ``app_id``,
  ``installation_id`` and the App's private key, Fernet-encrypted (``private_key_encrypted``), so
  ``token_encrypted`` becomes nullable (required for tokens by a CHECK constraint). Existing rows are tokens.
- ``alert_targets``: webhook targets (global or per team), URL and signing secret encrypted.
- ``copilot_alerts_sent``: one row per (alert, target), so an alert is delivered at most once per target and
  a failed delivery is retried.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.alter_column("token_encrypted", existing_type=sa.Text(), nullable=True)
        batch.add_column(sa.Column("kind", sa.String(length=16), server_default="token", nullable=False))
        batch.add_column(sa.Column("app_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("installation_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("private_key_encrypted", sa.Text(), nullable=True))
        batch.create_check_constraint(op.f("ck_credentials_kind_valid"), "kind IN ('token','github_app')")
        batch.create_check_constraint(
            op.f("ck_credentials_kind_fields"),
            "(kind = 'token' AND token_encrypted IS NOT NULL) OR (kind = 'github_app' AND app_id IS NOT NULL "
            "AND installation_id IS NOT NULL AND private_key_encrypted IS NOT NULL)",
        )
    op.create_table(
        "alert_targets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("url_encrypted", sa.Text(), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("format IN ('slack','generic')", name=op.f("ck_alert_targets_format_valid")),
        sa.CheckConstraint("format = 'slack' OR secret_encrypted IS NOT NULL",
                           name=op.f("ck_alert_targets_generic_signed")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_alert_targets_team_id_teams"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_targets")),
    )
    op.create_table(
        "copilot_alerts_sent",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint("state IN ('pending','sent','abandoned')", name=op.f("ck_copilot_alerts_sent_state_valid")),
        sa.ForeignKeyConstraint(["target_id"], ["alert_targets.id"],
                                name=op.f("fk_copilot_alerts_sent_target_id_alert_targets"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_copilot_alerts_sent_team_id_teams"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_copilot_alerts_sent")),
        sa.UniqueConstraint("dedup_key", "target_id", name="uq_copilot_alerts_sent_key_target"),
    )
    op.create_index("ix_copilot_alerts_sent_state", "copilot_alerts_sent", ["state"])


def downgrade() -> None:
    op.drop_index("ix_copilot_alerts_sent_state", table_name="copilot_alerts_sent")
    op.drop_table("copilot_alerts_sent")
    op.drop_table("alert_targets")
    # App credentials cannot be represented before this revision
    op.execute("DELETE FROM credentials WHERE kind <> 'token'")
    with op.batch_alter_table("credentials") as batch:
        batch.drop_constraint(op.f("ck_credentials_kind_fields"), type_="check")
        batch.drop_constraint(op.f("ck_credentials_kind_valid"), type_="check")
        batch.drop_column("private_key_encrypted")
        batch.drop_column("installation_id")
        batch.drop_column("app_id")
        batch.drop_column("kind")
        batch.alter_column("token_encrypted", existing_type=sa.Text(), nullable=False)
