"""Column schemas (``dg.TableSchema``) of the app store's tables, for the assets' definition metadata.

Built from ``resources.tables`` (names, types, nullability, primary keys) plus the descriptions below, so
the Dagster UI's "Columns" view always matches the tables the assets write. ``ASSET_TABLES`` says which
tables each asset writes; the first one is its main table (``asset_column_schema``).
"""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa

from resources import tables
from resources.statuses import ONBOARDING_STATUSES, STATUSES

# Descriptions by column name (shared names mean the same thing in every table) ...
COLUMN_DESCRIPTIONS: dict[str, str] = {
    "id": "surrogate key",
    "team_id": "our tenant (teams.id), never a GitHub team",
    "day": "UTC date of the team-day",
    "slug": "team slug: the `team` partition key",
    "name": "display name",
    "github_org": "GitHub organization login",
    "copilot_status": " | ".join(STATUSES),
    "copilot_status_reason": "machine-readable reason of the status",
    "copilot_last_sync_at": "last successful sync (UTC)",
    "copilot_last_success_run_started_at": "start time of the run that produced the last success",
    "copilot_consecutive_failures": "failures in a row (3 → insufficient_licenses, reason repeated_failures)",
    "onboarding_pipeline_status": " | ".join(ONBOARDING_STATUSES),
    "onboarding_started_at": "when the current onboarding cycle began",
    "onboarding_error": "why onboarding stopped at `failed` (an internal error); cleared by the next cycle",
    "created_at": "row created (UTC)",
    "updated_at": "row last updated (UTC)",
    "token_encrypted": "GitHub token, Fernet-encrypted (never in clear); null for a GitHub App credential",
    "kind": "token | github_app",
    "app_id": "GitHub App id (github_app credentials)",
    "installation_id": "the GitHub App's installation on the team's org (github_app credentials)",
    "private_key_encrypted": "the GitHub App's private key (PEM), Fernet-encrypted (never in clear); installation "
    "tokens are never stored",
    "format": "slack ({\"text\": …}) | generic (JSON with an X-CopilotFlow-Signature HMAC header)",
    "url_encrypted": "webhook URL, Fernet-encrypted (a Slack webhook URL is a secret)",
    "secret_encrypted": "HMAC-SHA256 signing secret of a generic target, Fernet-encrypted (null for slack)",
    "dedup_key": "what the alert is about (status event, confirmed-empty team-day, failed run): sent once per target",
    "target_id": "alert_targets.id",
    "attempts": "delivery attempts (each one retried with backoff)",
    "last_attempt_at": "last delivery attempt (UTC)",
    "sent_at": "when the webhook accepted it (UTC)",
    "last_error": "why the last delivery failed (status or error type; never the URL)",
    "is_revoked": "credential no longer used",
    "verified_at": "when the token was verified against GitHub",
    "revoked_at": "when the credential was revoked",
    "revoked_reason": "why it was revoked (replaced, token_revoked, …)",
    "scope": "'global' or 'team:<team_id>'",
    "enabled": "flag value",
    "at": "when it happened (UTC)",
    "event": "status machine event",
    "from_status": "status before",
    "to_status": "status after",
    "from_failures": "consecutive failures before",
    "to_failures": "consecutive failures after",
    "reason": "reason recorded with the transition",
    "actor": "who applied it (cli, sensor, asset, …)",
    "run_id": "Dagster run id",
    "detail": "free text",
    "outcome": "what was applied or observed",
    "applied_at": "when the run outcome was applied (UTC)",
    "report": "GitHub report name (organization-1-day, users-1-day, …)",
    "fetched_at": "when the report was fetched (UTC)",
    "record_count": "records in the raw report",
    "payload": "raw report records as JSON (unknown fields kept)",
    "observed_at": "when the fetch observed no report (UTC)",
    "asset": "synced asset (copilot_usage or copilot_user_usage)",
    "state": "data | no_report (GitHub has no report yet: re-fetched inside the gap horizon) | confirmed_empty",
    "no_report_checks": "how many fetches answered 204 / 404 / an empty report",
    "first_checked_at": "first fetch of the team-day (UTC)",
    "last_checked_at": "last fetch or state change of the team-day (UTC)",
    "daily_active_users": "users active that day",
    "weekly_active_users": "users active in the 7 days ending that day",
    "monthly_active_users": "users active in the 28 days ending that day",
    "monthly_active_chat_users": "chat users in the 28 days ending that day",
    "monthly_active_agent_users": "agent users in the 28 days ending that day",
    "user_initiated_interaction_count": "prompts and chat turns started by users",
    "code_generation_activity_count": "code suggestions shown / generated",
    "code_acceptance_activity_count": "code suggestions accepted",
    "loc_suggested_to_add_sum": "lines of code suggested to add",
    "loc_added_sum": "lines of code added (accepted)",
    "loc_suggested_to_delete_sum": "lines of code suggested to delete",
    "loc_deleted_sum": "lines of code deleted (accepted)",
    "chat_interactions": "chat interactions",
    "agent_interactions": "agent-mode interactions",
    "acceptance_rate": "code acceptances / code generations (0..1; null when nothing was generated)",
    "source_report": "report the row came from (organization-1-day or organization-28-day)",
    "language": "programming language",
    "editor": "IDE / editor",
    "model": "model name",
    "feature": "Copilot feature (completions, chat, agent, …)",
    "user_id": "GitHub user id",
    "user_login": "GitHub user login (null when GitHub's record has none: kept by user_id)",
    "used_chat": "used chat that day",
    "used_agent": "used agent mode that day",
    "used_cli": "used Copilot CLI that day",
    "engaged": "accepted code or interacted that day",
    "github_team_count": "GitHub teams the user belongs to",
    "github_team_id": "GitHub team id (a team inside the org, not our tenant)",
    "github_team_slug": "GitHub team slug",
    "active_users": "active Copilot users in the GitHub team",
    "engaged_users": "engaged Copilot users in the GitHub team",
    "below_threshold": "fewer than 5 Copilot users: kept but flagged",
    "snapshot_at": "exact time the seat snapshot was taken (UTC)",
    "total_seats": "seats in the subscription (billing.seat_breakdown.total)",
    "active_seats": "seats active this billing cycle",
    "inactive_seats": "seats inactive this billing cycle",
    "pending_invitation": "seats pending invitation",
    "pending_cancellation": "seats pending cancellation",
    "added_this_cycle": "seats added this billing cycle",
    "never_used": "seats without last_activity_at (GitHub also clears it after 90 idle days)",
    "dormant_30d": "seats whose last activity is more than 30 days before the snapshot",
    "listed_seats": "distinct seats listed by /copilot/billing/seats",
    "plan_type": "Copilot plan (business, enterprise)",
    "seat_management_setting": "org seat management setting",
    "source": "claude | rules",
    "headline": "insight headline",
    "recommendation": "recommended next step",
    "actions": "suggested actions (JSON)",
    "cited_numbers": "numbers the insight cites (JSON), each a fact",
    "facts": "facts the insight was written from (JSON)",
    "fallback_reason": "why rules took over from Claude (null when Claude wrote it)",
    "input_tokens": "LLM input tokens",
    "output_tokens": "LLM output tokens",
    "cache_read_input_tokens": "LLM prompt-cache read tokens",
    "cache_creation_input_tokens": "LLM prompt-cache write tokens",
    "cost_usd": "estimated LLM cost in USD",
}
# ... and where a name means something narrower in one table
TABLE_COLUMN_DESCRIPTIONS: dict[tuple[str, str], str] = {
    ("teams", "id"): "team id (team_id elsewhere)",
    ("feature_flags", "name"): "flag name (integration_copilot_enabled)",
    ("feature_flags", "team_id"): "team of a per-team override (null for the global value)",
    **{(f"copilot_{key}_daily", "acceptance_rate"): f"acceptances / generations for the {key} (0..1)"
       for key in ("language", "editor", "model", "feature")},
    ("copilot_github_team_daily", "acceptance_rate"): "acceptances / generations in the GitHub team (0..1)",
    ("insights", "model"): "Claude model id (null for rules)",
    ("insights", "detail"): "insight body",
    ("copilot_day_status", "reason"): "last 'no report' answer (http_204, http_404, …), or why confirmed empty",
    ("copilot_report_observations", "outcome"): "GitHub's answer: http_204, http_404, no_report_available, …",
    ("alert_targets", "team_id"): "team whose alerts it receives (null: a global target, every team's alerts)",
    ("copilot_alerts_sent", "team_id"): "team the alert is about (null: not about one team)",
    ("copilot_alerts_sent", "kind"): "status_changed | day_confirmed_empty | nightly_failed",
    ("copilot_alerts_sent", "payload"): "the message as JSON (no secret), kept for retries",
    ("copilot_alerts_sent", "state"): "pending (retried on the next tick) | sent | abandoned (undelivered for a day)",
}

# asset → the store tables it writes; the first is its main table
ASSET_TABLES: dict[str, tuple[str, ...]] = {
    "copilot_usage": ("copilot_usage_daily", "copilot_language_daily", "copilot_editor_daily",
                      "copilot_model_daily", "copilot_feature_daily", "copilot_raw_reports", "copilot_day_status"),
    "copilot_user_usage": ("copilot_user_daily", "copilot_github_team_daily", "copilot_raw_reports",
                           "copilot_day_status"),
    "copilot_seats": ("copilot_seat_snapshots", "copilot_raw_reports"),
    "copilot_insights": ("insights",),
}


_TYPE_NAMES: tuple[tuple[type, str], ...] = (  # first match wins: BigInteger is an Integer, Text a String
    (sa.BigInteger, "bigint"), (sa.Integer, "int"), (sa.Float, "float"), (sa.Boolean, "bool"), (sa.Date, "date"),
    (sa.Text, "text"),
)


def _type_name(col: sa.Column) -> str:
    t = col.type
    if isinstance(t, sa.DateTime):
        return "timestamp (UTC)" if t.timezone else "timestamp"
    for kind, name in _TYPE_NAMES:
        if isinstance(t, kind):
            return name
    if isinstance(t, sa.String):
        return f"string({t.length})" if t.length else "string"
    return str(t).lower()


def column_description(table: str, column: str) -> str | None:
    return TABLE_COLUMN_DESCRIPTIONS.get((table, column)) or COLUMN_DESCRIPTIONS.get(column)


def _table(table: sa.Table | str) -> sa.Table:
    if isinstance(table, sa.Table):
        return table
    try:
        return tables.metadata.tables[table]
    except KeyError:
        raise KeyError(f"unknown store table {table!r}") from None


def table_schema(table: sa.Table | str) -> dg.TableSchema:
    """The ``dg.TableSchema`` of one store table: every column with type, nullability and description."""
    t = _table(table)
    pk = [c.name for c in t.primary_key.columns]
    columns = []
    for col in t.columns:
        unique = bool(col.unique) or (pk == [col.name])
        columns.append(dg.TableColumn(
            name=col.name,
            type=_type_name(col),
            description=column_description(t.name, col.name),
            constraints=dg.TableColumnConstraints(nullable=bool(col.nullable), unique=unique),
        ))
    other = [f"primary key ({', '.join(pk)})"] if pk else []
    other += [f"check {c.name}" for c in t.constraints if isinstance(c, sa.CheckConstraint) and c.name]
    return dg.TableSchema(columns=columns, constraints=dg.TableConstraints(other=other) if other else None)


def all_table_schemas() -> dict[str, dg.TableSchema]:
    """Every store table's schema, by table name."""
    return {t.name: table_schema(t) for t in tables.metadata.sorted_tables}


def asset_column_schema(asset: str) -> dg.TableSchema:
    """The schema of the main table an asset writes (``ASSET_TABLES[asset][0]``)."""
    return table_schema(ASSET_TABLES[asset][0])
