"""GitHub Copilot REST client (reports API, billing, seats) and its Dagster resource.

- Typed errors (resources/github_errors.py) decided by ``classify_error`` from status + GitHub's JSON error
  body + headers; never from exception text.
- Transient errors (5xx, timeouts) are retried with exponential backoff and full jitter, bounded by
  ``max_attempts`` and ``max_retry_seconds``. Rate limits (primary and secondary, GitHub's rate-limit docs) honour
  ``retry-after`` / ``x-ratelimit-reset``, else wait ≥ 60 s with capped exponential backoff; every wait is
  logged, and one client's waits are bounded by ``rate_limit_budget_seconds`` (then RateLimited at once).
- A 204, a 404, a bare JSON string or an empty body for one day of a 1-day report is ``NotReady`` (falsy),
  never an error (decision 11, docs/architecture.md).
- Report envelopes → every signed download link is fetched right away WITHOUT the Authorization header,
  stream-parsed line by line, and merged (or spooled per day: parsed records in memory up to
  2 MB of lines, temp files past it: ``report_latest_28_by_day``);
  a rejected link (401/403/404) re-fetches the envelope once.
- REST redirects (301/302/303/307/308, ≤ 5 hops) are followed by the client itself. The Authorization
  header goes only to the API origin (scheme, host, port of ``base_url``): never to a download link, a
  redirect target or a ``Link: rel="next"`` URL on another origin.
- The token never appears in repr(), logs or exception text; errors carry the path only (no query string,
  never a download URL); a logging filter strips URL queries from httpx/httpcore log records.

- A team's credential is a token or a GitHub App installation (``app_auth``: JWT → installation token, cached
  in memory until 5 minutes before it expires, refreshed once on a 401, never stored or logged).

Modules: ``logs`` (the log filter), ``classify`` (pure: errors, reasons, waits), ``app_auth`` (GitHub App
installation tokens), ``reports`` (Report, NotReady,
shard parsing), ``spool`` (DaySpool), ``transport`` (connections, redirects, retries), ``client``
(GitHubClient), ``resource`` (GitHubResource and its config). Everything importers use is re-exported here.
"""

from __future__ import annotations

from resources.github.app_auth import (
    INSTALLATION_TOKENS,
    AppCredential,
    InstallationAuth,
    InstallationTokens,
    StaticToken,
    app_jwt,
    load_private_key,
)
from resources.github.classify import (
    RATE_LIMIT_BUDGET_SECONDS,
    RATE_LIMIT_CAP_SECONDS,
    RATE_LIMIT_JITTER,
    SECONDARY_MIN_WAIT,
    accepted_permissions,
    access_denied_reason,
    backoff_wait,
    classify_error,
    rate_limit_wait,
)
from resources.github.client import GitHubClient, _parse_link_next
from resources.github.logs import HTTP_LOGGERS, install_log_filter, scrub_text
from resources.github.reports import (
    BILLING_REPORT,
    LATEST_REPORTS,
    NOT_READY_WHY,
    ONE_DAY_REPORTS,
    ORG_1_DAY,
    ORG_28_DAY,
    SEATS_REPORT,
    SPOOLED_REPORTS,
    USER_TEAMS_REPORT,
    USERS_1_DAY,
    USERS_28_DAY,
    NotReady,
    Report,
    iter_shard,
    parse_shard,
)
from resources.github.resource import (
    ENV_API_URL,
    PUBLIC_API_URL,
    USER_TEAMS_AVAILABLE_FROM,
    USER_TEAMS_FLOOR_CONFIG,
    GitHubResource,
    app_credential,
    default_base_url,
    parse_user_teams_floor,
)
from resources.github.spool import DaySpool
from resources.github.transport import (
    API_VERSION,
    MAX_REDIRECTS,
    REDIRECT_STATUSES,
    CallCounter,
    logger,
    shared_ssl_context,
)

__all__ = [
    "API_VERSION",
    "BILLING_REPORT",
    "ENV_API_URL",
    "HTTP_LOGGERS",
    "INSTALLATION_TOKENS",
    "LATEST_REPORTS",
    "MAX_REDIRECTS",
    "NOT_READY_WHY",
    "ONE_DAY_REPORTS",
    "ORG_1_DAY",
    "ORG_28_DAY",
    "PUBLIC_API_URL",
    "RATE_LIMIT_BUDGET_SECONDS",
    "RATE_LIMIT_CAP_SECONDS",
    "RATE_LIMIT_JITTER",
    "REDIRECT_STATUSES",
    "SEATS_REPORT",
    "SECONDARY_MIN_WAIT",
    "SPOOLED_REPORTS",
    "USERS_1_DAY",
    "USERS_28_DAY",
    "USER_TEAMS_AVAILABLE_FROM",
    "USER_TEAMS_FLOOR_CONFIG",
    "USER_TEAMS_REPORT",
    "AppCredential",
    "CallCounter",
    "DaySpool",
    "GitHubClient",
    "GitHubResource",
    "InstallationAuth",
    "InstallationTokens",
    "NotReady",
    "Report",
    "StaticToken",
    "_parse_link_next",
    "accepted_permissions",
    "access_denied_reason",
    "app_credential",
    "app_jwt",
    "backoff_wait",
    "classify_error",
    "default_base_url",
    "install_log_filter",
    "iter_shard",
    "load_private_key",
    "logger",
    "parse_shard",
    "parse_user_teams_floor",
    "rate_limit_wait",
    "scrub_text",
    "shared_ssl_context",
]
