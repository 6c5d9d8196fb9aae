"""The app store's tables (SQLAlchemy Core), on the one MetaData of resources/table_kit.py (Alembic migrations
mirror it); the tables of GitHub's 2026 report fields are in resources/tables_2026.py and named here too.

Every Copilot data table is keyed by ``team_id`` (our tenant, never a GitHub team) and ``day`` (UTC
date). Writers replace one team-day at a time inside one transaction (see ``resources.store``).
"""

from __future__ import annotations

import sqlalchemy as sa

from resources.statuses import DISABLED, STATUSES
from resources.table_kit import UTC_TS, metadata
from resources.table_kit import check_in as _in
from resources.table_kit import counters as _counters
from resources.table_kit import nullable as _nullable
from resources.table_kit import parser_version as _parser_version
from resources.table_kit import team_day_table as _team_day_table
from resources.table_kit import team_fk as _team_fk
from resources.tables_2026 import PR_SUGGESTION_COUNTS as PR_SUGGESTION_COUNTS
from resources.tables_2026 import PULL_REQUEST_COUNTS as PULL_REQUEST_COUNTS
from resources.tables_2026 import PULL_REQUEST_MEDIANS as PULL_REQUEST_MEDIANS
from resources.tables_2026 import SURFACE_COUNTS as SURFACE_COUNTS
from resources.tables_2026 import (
    copilot_app_daily,
    copilot_cli_daily,
    copilot_pr_suggestion_daily,
    copilot_pull_request_daily,
    copilot_third_party_agent_daily,
)

# --------------------------------------------------------------------------- app tables
teams = sa.Table(
    "teams",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("github_org", sa.String(100), nullable=False),
    sa.Column("copilot_status", sa.String(32), nullable=False, server_default=DISABLED),
    sa.Column("copilot_status_reason", sa.String(64)),
    sa.Column("copilot_last_sync_at", UTC_TS),
    # start time of the run that produced the last success (decision 6: ordering rule)
    sa.Column("copilot_last_success_run_started_at", UTC_TS),
    sa.Column("copilot_consecutive_failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("onboarding_pipeline_status", sa.String(32), nullable=False, server_default="not_started"),
    sa.Column("onboarding_started_at", UTC_TS),  # when the current onboarding cycle began
    sa.Column("onboarding_error", sa.Text),  # why onboarding stopped at `failed` (an internal error)
    sa.Column("ai_credit_monthly_budget", sa.Float),  # optional AI credits per calendar month (null: no budget)
    sa.Column("created_at", UTC_TS, nullable=False),
    sa.Column("updated_at", UTC_TS, nullable=False),
    sa.CheckConstraint(_in("copilot_status", STATUSES), name="copilot_status_valid"),
)

def _team_log_table(name: str, *columns: sa.SchemaItem) -> sa.Table:
    """A table of rows about one team, each with its own surrogate id (credentials, events, observations)."""
    return sa.Table(name, metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True), _team_fk(),
                    *columns)


# a credential is a token (kind "token": token_encrypted) or a GitHub App installation (kind "github_app":
# app_id, installation_id and the App's private key, encrypted); installation tokens are never stored
CREDENTIAL_KINDS = ("token", "github_app")
credentials = _team_log_table(
    "credentials",
    sa.Column("token_encrypted", sa.Text),
    sa.Column("is_revoked", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", UTC_TS, nullable=False),
    sa.Column("verified_at", UTC_TS),
    sa.Column("revoked_at", UTC_TS),
    sa.Column("revoked_reason", sa.String(64)),
    sa.Column("kind", sa.String(16), nullable=False, server_default=CREDENTIAL_KINDS[0]),
    sa.Column("app_id", sa.BigInteger),
    sa.Column("installation_id", sa.BigInteger),
    sa.Column("private_key_encrypted", sa.Text),
    sa.CheckConstraint(_in("kind", CREDENTIAL_KINDS), name="kind_valid"),
    sa.CheckConstraint(
        "(kind = 'token' AND token_encrypted IS NOT NULL) OR (kind = 'github_app' AND app_id IS NOT NULL "
        "AND installation_id IS NOT NULL AND private_key_encrypted IS NOT NULL)", name="kind_fields"),
)

# scope is "global" or "team:<team_id>": one unique key that works the same on SQLite and PostgreSQL
feature_flags = sa.Table(
    "feature_flags",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("scope", sa.String(80), nullable=False),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="CASCADE")),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("updated_at", UTC_TS, nullable=False),
    sa.UniqueConstraint("name", "scope", name="uq_feature_flags_name_scope"),
)

copilot_status_events = _team_log_table(
    "copilot_status_events",
    sa.Column("at", UTC_TS, nullable=False),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("from_status", sa.String(32)),
    sa.Column("to_status", sa.String(32), nullable=False),
    sa.Column("from_failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("to_failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("reason", sa.String(64)),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("run_id", sa.String(64)),
    sa.Column("detail", sa.Text),
)
sa.Index("ix_copilot_status_events_team_at", copilot_status_events.c.team_id, copilot_status_events.c.at)

# exactly-once application of a run's outcome to a team (sensor restarts, re-delivered ticks)
copilot_run_outcomes = sa.Table(
    "copilot_run_outcomes",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("applied_at", UTC_TS, nullable=False),
)


# --------------------------------------------------------------------------- alerts
# where alerts go: a global target (team_id null) gets every alert, a team's target only that team's; the
# URL (a Slack webhook URL is a secret) and the signing secret of generic targets are Fernet-encrypted
ALERT_FORMATS = ("slack", "generic")
alert_targets = sa.Table(
    "alert_targets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="CASCADE")),
    sa.Column("format", sa.String(16), nullable=False),
    sa.Column("url_encrypted", sa.Text, nullable=False),
    sa.Column("secret_encrypted", sa.Text),
    sa.Column("created_at", UTC_TS, nullable=False),
    sa.CheckConstraint(_in("format", ALERT_FORMATS), name="format_valid"),
    sa.CheckConstraint("format = 'slack' OR secret_encrypted IS NOT NULL", name="generic_signed"),
)

# one row per (alert, target): written before delivery, so an alert is sent at most once per target (a
# re-evaluated sensor tick finds it) and a failed delivery is retried on the next tick
ALERT_STATES = ("pending", "sent", "abandoned")
copilot_alerts_sent = sa.Table(
    "copilot_alerts_sent",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("dedup_key", sa.String(200), nullable=False),
    sa.Column("target_id", sa.Integer, sa.ForeignKey("alert_targets.id", ondelete="CASCADE"), nullable=False),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="CASCADE")),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", UTC_TS, nullable=False),
    sa.Column("last_attempt_at", UTC_TS),
    sa.Column("sent_at", UTC_TS),
    sa.Column("last_error", sa.Text),
    sa.UniqueConstraint("dedup_key", "target_id", name="uq_copilot_alerts_sent_key_target"),
    sa.CheckConstraint(_in("state", ALERT_STATES), name="state_valid"),
)
sa.Index("ix_copilot_alerts_sent_state", copilot_alerts_sent.c.state)


# --------------------------------------------------------------------------- copilot data tables
copilot_raw_reports = _team_day_table(
    "copilot_raw_reports",
    sa.Column("report", sa.String(40), nullable=False),
    sa.Column("fetched_at", UTC_TS, nullable=False),
    sa.Column("record_count", sa.Integer, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),  # JSON array of the raw records, unknown fields kept

    key=("report",),
)

# A fetch that found no report (204) or an empty one: an observation, never a rewrite to zero (decision 8)
copilot_report_observations = _team_log_table(
    "copilot_report_observations",
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("report", sa.String(40), nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("observed_at", UTC_TS, nullable=False),
    sa.Column("run_id", sa.String(64)),
)

# The current state of one synced asset's team-day (docs/architecture.md decision 11). "data": rows are
# stored; "no_report": GitHub answered 204/404/an empty report (not ready yet, still re-fetched by the
# nightly inside the gap horizon); "confirmed_empty": still no report when the day left the horizon
# (recorded once, with why).
DAY_STATES = ("data", "no_report", "confirmed_empty")
copilot_day_status = _team_day_table(
    "copilot_day_status",
    sa.Column("asset", sa.String(40), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text),  # last not-ready answer (http_204, http_404 …), or why confirmed empty
    sa.Column("no_report_checks", sa.Integer, nullable=False, server_default="0"),
    sa.Column("first_checked_at", UTC_TS, nullable=False),
    sa.Column("last_checked_at", UTC_TS, nullable=False),
    sa.Column("run_id", sa.String(64)),
    sa.CheckConstraint(_in("state", DAY_STATES), name="state_valid"),
    key=("asset",),
)

SURFACE_USER_FIELDS = (
    "daily_active_cli_users",
    "daily_active_copilot_cloud_agent_users",
    "weekly_active_copilot_cloud_agent_users",
    "monthly_active_copilot_cloud_agent_users",
    "daily_active_copilot_code_review_users",
    "weekly_active_copilot_code_review_users",
    "monthly_active_copilot_code_review_users",
    "daily_passive_copilot_code_review_users",
    "weekly_passive_copilot_code_review_users",
    "monthly_passive_copilot_code_review_users",
    "daily_active_copilot_app_users",
)
"""Active-user counts of the 2026 surfaces on copilot_usage_daily (github-copilot-api.md §1.5 A)."""

copilot_usage_daily = _team_day_table(
    "copilot_usage_daily",
    sa.Column("daily_active_users", sa.Integer),
    sa.Column("weekly_active_users", sa.Integer),
    sa.Column("monthly_active_users", sa.Integer),
    sa.Column("monthly_active_chat_users", sa.Integer),
    sa.Column("monthly_active_agent_users", sa.Integer),
    *_counters(),
    sa.Column("loc_suggested_to_delete_sum", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("loc_deleted_sum", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("chat_interactions", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("agent_interactions", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("acceptance_rate", sa.Float),
    sa.Column("source_report", sa.String(40), nullable=False),
    sa.Column("fetched_at", UTC_TS, nullable=False),
    # surfaces GitHub added in 2026 (distinct-user counts: never summed across days or teams)
    *_nullable(sa.Integer, *SURFACE_USER_FIELDS),
    _parser_version(),
    sa.CheckConstraint("acceptance_rate IS NULL OR (acceptance_rate >= 0 AND acceptance_rate <= 1)",
                       name="acceptance_rate_range"),
)


def _breakdown(name: str, key: str) -> sa.Table:
    return _team_day_table(
        name,
        sa.Column(key, sa.String(200), nullable=False),
        *_counters(),
        sa.Column("acceptance_rate", sa.Float),
        _parser_version(),
        key=(key,),
    )


copilot_language_daily = _breakdown("copilot_language_daily", "language")
copilot_editor_daily = _breakdown("copilot_editor_daily", "editor")
copilot_model_daily = _breakdown("copilot_model_daily", "model")
copilot_feature_daily = _breakdown("copilot_feature_daily", "feature")

USER_SURFACE_FLAGS = (
    "used_copilot_cloud_agent",
    "used_copilot_code_review_active",
    "used_copilot_code_review_passive",
    "used_copilot_app",
)
"""GitHub's per-user booleans added in 2026 (copilot_user_daily; null when the report did not carry them)."""

copilot_user_daily = _team_day_table(
    "copilot_user_daily",
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("user_login", sa.String(100)),  # GitHub documents every field as optional: kept by user_id
    *_counters(),
    sa.Column("used_chat", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("used_agent", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("used_cli", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("engaged", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("github_team_count", sa.Integer, nullable=False, server_default="0"),
    *_nullable(sa.Boolean, *USER_SURFACE_FLAGS),
    sa.Column("ai_credits_used", sa.Float),
    sa.Column("ai_adoption_phase", sa.String(64)),
    sa.Column("ai_adoption_phase_number", sa.Integer),
    _parser_version(),
    key=("user_id",),
)

copilot_github_team_daily = _team_day_table(
    "copilot_github_team_daily",
    sa.Column("github_team_id", sa.BigInteger, nullable=False),
    sa.Column("github_team_slug", sa.String(200), nullable=False),
    sa.Column("active_users", sa.Integer, nullable=False),
    sa.Column("engaged_users", sa.Integer, nullable=False),
    *_counters(),
    sa.Column("acceptance_rate", sa.Float),
    sa.Column("below_threshold", sa.Boolean, nullable=False),
    _parser_version(),
    key=("github_team_id",),
)

SEAT_COSTS = ("seat_cost_usd", "never_used_cost_usd", "dormant_30d_cost_usd")
"""USD per team-day: seats × monthly list price of their plan / days in that month (null: a plan has no price)."""

copilot_seat_snapshots = _team_day_table(
    "copilot_seat_snapshots",
    sa.Column("snapshot_at", UTC_TS, nullable=False),
    sa.Column("total_seats", sa.Integer, nullable=False),
    sa.Column("active_seats", sa.Integer, nullable=False),
    sa.Column("inactive_seats", sa.Integer, nullable=False),
    sa.Column("pending_invitation", sa.Integer, nullable=False),
    sa.Column("pending_cancellation", sa.Integer, nullable=False),
    sa.Column("added_this_cycle", sa.Integer, nullable=False),
    sa.Column("never_used", sa.Integer, nullable=False),
    sa.Column("dormant_30d", sa.Integer, nullable=False),
    sa.Column("listed_seats", sa.Integer, nullable=False),
    sa.Column("plan_type", sa.String(32)),
    sa.Column("seat_management_setting", sa.String(32)),
    *_nullable(sa.Float, *SEAT_COSTS),
    _parser_version(),
)

# seats per plan_type of one snapshot (GitHub's plan_type per seat), priced with the configured list prices
copilot_seat_plan_daily = _team_day_table(
    "copilot_seat_plan_daily",
    sa.Column("plan_type", sa.String(32), nullable=False),
    sa.Column("seats", sa.Integer, nullable=False),
    sa.Column("never_used", sa.Integer, nullable=False),
    sa.Column("dormant_30d", sa.Integer, nullable=False),
    sa.Column("seat_price_usd_month", sa.Float),
    *_nullable(sa.Float, *SEAT_COSTS),
    _parser_version(),
    key=("plan_type",),
)

insights = _team_day_table(
    "insights",
    sa.Column("source", sa.String(16), nullable=False),  # "claude" | "rules"
    sa.Column("model", sa.String(100)),
    sa.Column("headline", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("recommendation", sa.Text, nullable=False),
    sa.Column("actions", sa.Text, nullable=False),  # JSON
    sa.Column("cited_numbers", sa.Text, nullable=False),  # JSON
    sa.Column("facts", sa.Text, nullable=False),  # JSON: the facts the insight was written from
    sa.Column("fallback_reason", sa.String(64)),
    sa.Column("input_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("output_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cache_read_input_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cache_creation_input_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cost_usd", sa.Float, nullable=False, server_default="0"),
    sa.Column("created_at", UTC_TS, nullable=False),
    sa.Column("run_id", sa.String(64)),
)

TEAM_DAY_TABLES = {
    t.name: t
    for t in (
        copilot_usage_daily,
        copilot_language_daily,
        copilot_editor_daily,
        copilot_model_daily,
        copilot_feature_daily,
        copilot_user_daily,
        copilot_github_team_daily,
        copilot_seat_snapshots,
        copilot_seat_plan_daily,
        copilot_pull_request_daily,
        copilot_pr_suggestion_daily,
        copilot_cli_daily,
        copilot_app_daily,
        copilot_third_party_agent_daily,
        insights,
    )
}
