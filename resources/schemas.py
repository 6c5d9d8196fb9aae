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

_SPANS = (("daily", "that day"), ("weekly", "in the 7 days ending that day"),
          ("monthly", "in the 28 days ending that day"))

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
    # 2026 report fields (github-copilot-api.md §1.5): null = GitHub did not say (absent, or a day before the
    # field existed), never 0. Distinct-user counts are never summed across days or teams.
    "parser_version": "version of the parser that derived the row (null: before versions were recorded); "
                      "`copilot-flow rederive` rebuilds rows from copilot_raw_reports",
    "ai_credit_monthly_budget": "AI credits the team may use per calendar month (null: no budget)",
    "daily_active_cli_users": "users active in Copilot CLI that day (null when GitHub did not report it)",
    **{f"{span}_active_copilot_cloud_agent_users": f"users of the Copilot cloud agent (formerly coding agent) "
       f"{when} (null before 2026-04-10 or when absent)" for span, when in _SPANS},
    **{f"{span}_active_copilot_code_review_users": f"users who actively used Copilot code review {when} (null "
       f"before 2026-04-22 or when absent)" for span, when in _SPANS},
    **{f"{span}_passive_copilot_code_review_users": f"users who received Copilot code reviews without asking "
       f"{when} (null before 2026-04-22 or when absent)" for span, when in _SPANS},
    "daily_active_copilot_app_users": "users active in the GitHub Copilot app that day (null when absent)",
    "used_copilot_cloud_agent": "used the Copilot cloud agent that day (GitHub's used_copilot_cloud_agent or "
                                "used_copilot_coding_agent; null when absent)",
    "used_copilot_code_review_active": "asked Copilot code review for a review that day (null when absent)",
    "used_copilot_code_review_passive": "received a Copilot code review that day (null when absent)",
    "used_copilot_app": "used the GitHub Copilot app that day (null when absent)",
    "ai_credits_used": "AI credits used that day (null before 2026-06-19 or when absent; summable over users and "
                       "days)",
    "ai_adoption_phase": "GitHub's AI adoption phase of the user (passive, code_first, agent_first, multi_agent, …)",
    "ai_adoption_phase_number": "number of the adoption phase (1 = first)",
    "seat_cost_usd": "USD the seats cost that team-day: seats × monthly price of their plan / days in the month",
    "never_used_cost_usd": "USD the never-used seats cost that team-day (same formula)",
    "dormant_30d_cost_usd": "USD the dormant (> 30 days idle) seats cost that team-day (same formula)",
    "seat_price_usd_month": "USD per seat per month of the plan (CostResource; null: no price configured)",
    "seats": "seats of that plan listed by /copilot/billing/seats",
    "total_created": "pull requests created",
    "total_reviewed": "pull requests reviewed",
    "total_merged": "pull requests merged",
    "median_minutes_to_merge": "median minutes from creation to merge of the PRs merged that day (null when none "
                               "merged; a median: never summed or averaged across days)",
    "total_suggestions": "review suggestions made on pull requests",
    "total_applied_suggestions": "review suggestions applied",
    "total_created_by_copilot": "pull requests created by Copilot (cloud agent)",
    "total_reviewed_by_copilot": "pull requests reviewed by Copilot code review",
    "total_merged_created_by_copilot": "merged pull requests that Copilot created",
    "total_merged_reviewed_by_copilot": "merged pull requests that Copilot reviewed",
    "median_minutes_to_merge_copilot_authored": "median minutes to merge of Copilot-created PRs (null when none)",
    "median_minutes_to_merge_copilot_reviewed": "median minutes to merge of Copilot-reviewed PRs (null when none)",
    "total_copilot_suggestions": "review suggestions made by Copilot",
    "total_copilot_applied_suggestions": "review suggestions by Copilot that were applied",
    "comment_type": "kind of Copilot review comment (GitHub's comment_type)",
    "session_count": "sessions",
    "request_count": "requests",
    "prompt_count": "prompts",
    "prompt_tokens_sum": "prompt tokens",
    "output_tokens_sum": "output tokens",
    "avg_tokens_per_request": "GitHub's average tokens per request",
    "cli_version": "last known Copilot CLI version",
    "agent_id": "third-party agent id (stable)",
    "agent_name": "third-party agent display name",
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
    ("copilot_seat_plan_daily", "plan_type"): "the seats' plan: its own plan_type, else billing's, else unknown",
    ("copilot_seat_plan_daily", "never_used"): "seats of that plan without last_activity_at",
    ("copilot_seat_plan_daily", "dormant_30d"): "seats of that plan idle for more than 30 days",
    ("copilot_pr_suggestion_daily", "total_copilot_suggestions"): "Copilot review suggestions of that comment type",
    ("copilot_pr_suggestion_daily", "total_copilot_applied_suggestions"):
        "Copilot review suggestions of that comment type that were applied",
    ("copilot_third_party_agent_daily", "user_initiated_interaction_count"):
        "interactions with that agent (never added to copilot_usage_daily's count)",
    ("copilot_third_party_agent_daily", "session_count"): "sessions with that agent (aggregate reports only)",
    ("alert_targets", "team_id"): "team whose alerts it receives (null: a global target, every team's alerts)",
    ("copilot_alerts_sent", "team_id"): "team the alert is about (null: not about one team)",
    ("copilot_alerts_sent", "kind"): "status_changed | day_confirmed_empty | nightly_failed",
    ("copilot_alerts_sent", "payload"): "the message as JSON (no secret), kept for retries",
    ("copilot_alerts_sent", "state"): "pending (retried on the next tick) | sent | abandoned (undelivered for a day)",
}

# asset → the store tables it writes; the first is its main table
ASSET_TABLES: dict[str, tuple[str, ...]] = {
    "copilot_usage": ("copilot_usage_daily", "copilot_language_daily", "copilot_editor_daily",
                      "copilot_model_daily", "copilot_feature_daily", "copilot_pull_request_daily",
                      "copilot_pr_suggestion_daily", "copilot_cli_daily", "copilot_app_daily",
                      "copilot_third_party_agent_daily", "copilot_raw_reports", "copilot_day_status"),
    "copilot_user_usage": ("copilot_user_daily", "copilot_github_team_daily", "copilot_raw_reports",
                           "copilot_day_status"),
    "copilot_seats": ("copilot_seat_snapshots", "copilot_seat_plan_daily", "copilot_raw_reports"),
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


TABLE_SCHEMA_KEY = "copilot/table_schema/{}"


def asset_definition_metadata(asset: str) -> dict[str, dg.TableSchema]:
    """An asset's definition metadata: its main table's schema as ``dagster/column_schema`` (the UI's
    "Columns"), and the schema of every other data table it writes under ``copilot/table_schema/<table>``."""
    main, *others = ASSET_TABLES[asset]
    md = {"dagster/column_schema": table_schema(main)}
    for name in others:
        if name in tables.TEAM_DAY_TABLES:
            md[TABLE_SCHEMA_KEY.format(name)] = table_schema(name)
    return md
