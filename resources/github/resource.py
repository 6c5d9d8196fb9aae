"""``GitHubResource``: the Dagster resource that builds one GitHubClient per team sync, and its config — the
API URL and the user-teams-1-day floor (``user_teams_available_from``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import dagster as dg
from pydantic import Field, field_validator

from resources import settings
from resources.github.app_auth import AppCredential, InstallationAuth, InstallationTokens
from resources.github.classify import RATE_LIMIT_BUDGET_SECONDS
from resources.github.client import GitHubClient

PUBLIC_API_URL = settings.DEFAULT_GITHUB_API_URL
ENV_API_URL = settings.GITHUB_API_URL_ENV
# GitHub added the org endpoint user-teams-1-day on 2026-05-14 (GitHub's changelog; there is no 28-day variant).
# One production client (navikt) saw data only from 2026-05-15; whether earlier days are served is
# unconfirmed. Days before this floor are not asked for (a long backfill would spend one REST call per day
# on them): copilot_user_usage stores per-user rows only and keeps any GitHub team rows already stored.
# Operators can move the floor with GitHubResource.user_teams_available_from (e.g. earlier, to probe).
USER_TEAMS_AVAILABLE_FROM = date(2026, 5, 14)
USER_TEAMS_FLOOR_CONFIG = "GitHubResource.user_teams_available_from"
# GitHubResource fields handed to GitHubClient as they are, under the same name
_CLIENT_FIELDS = ("max_attempts", "max_retry_seconds", "backoff_base", "timeout_seconds", "rate_limit_budget_seconds")


def default_base_url() -> str:
    return settings.github_api_url()


def parse_user_teams_floor(value: str | None) -> date | None:
    """``user_teams_available_from`` → the first day to ask user-teams-1-day for; empty = no floor.

    Raises ValueError naming the config field when the value is not a YYYY-MM-DD date."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{USER_TEAMS_FLOOR_CONFIG} must be a YYYY-MM-DD date (or empty to always ask GitHub), "
            f"got {value!r}"
        ) from None


class GitHubResource(dg.ConfigurableResource):
    """Builds one GitHubClient per team sync. Tokens come from the app store, never from config."""

    base_url: str = PUBLIC_API_URL
    max_attempts: int = 4
    max_retry_seconds: float = 30.0
    timeout_seconds: float = 30.0
    max_concurrency_per_org: int = 4
    backoff_base: float = 0.5
    rate_limit_budget_seconds: float = Field(
        default=RATE_LIMIT_BUDGET_SECONDS,
        description="Cumulative seconds one client (one team within one step) may wait on GitHub rate limits, "
        "primary or secondary. A wait past what is left is not taken: the request fails as rate_limited "
        "(retryable) at once.",
    )
    user_teams_available_from: str = Field(
        default=USER_TEAMS_AVAILABLE_FROM.isoformat(),
        description="YYYY-MM-DD: first day user-teams-1-day is asked for (GitHub added the endpoint on "
        "2026-05-14). Earlier days store per-user rows only and keep stored GitHub team rows. Set it earlier "
        "to probe whether GitHub serves older days; empty = always ask.",
    )

    @field_validator("user_teams_available_from")
    @classmethod
    def _check_user_teams_available_from(cls, value: str) -> str:
        parse_user_teams_floor(value)
        return value.strip()

    def client(
        self, *, team: str, org: str, token: str | None = None, app: AppCredential | None = None,
        log: Callable[[str], None] | None = None, tokens: InstallationTokens | None = None,
    ) -> GitHubClient:
        """A client with a token, or with a GitHub App installation (``app``: its installation token comes
        from ``tokens``, the process's cache by default). ``log`` receives one line per rate-limit wait (e.g.
        ``context.log.warning``)."""
        base_url = self.base_url or default_base_url()
        return GitHubClient(
            base_url=base_url,
            token=token,
            auth=InstallationAuth(app, base_url, team=team, tokens=tokens) if app is not None else None,
            team=team,
            org=org,
            max_concurrency=self.max_concurrency_per_org,
            user_teams_available_from=parse_user_teams_floor(self.user_teams_available_from),
            log=log,
            **{name: getattr(self, name) for name in _CLIENT_FIELDS},
        )

    def client_for(self, credential: Any, *, team: str, org: str,
                   log: Callable[[str], None] | None = None) -> GitHubClient:
        """A client for a stored credential (``resources.store.ActiveCredential``): its token, or its GitHub
        App installation."""
        app = app_credential(credential)
        if app is not None:
            return self.client(team=team, org=org, app=app, log=log)
        return self.client(team=team, org=org, token=credential.token.reveal(), log=log)


def app_credential(credential: Any) -> AppCredential | None:
    """The GitHub App of a stored credential, or None for a token."""
    if getattr(credential, "kind", "token") != "github_app":
        return None
    return AppCredential(app_id=int(credential.app_id), installation_id=int(credential.installation_id),
                         private_key=credential.private_key)
