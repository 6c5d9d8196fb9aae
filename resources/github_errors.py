"""Typed GitHub errors. The status machine decides from these (HTTP status + GitHub's error body), never
from an exception's text. No error ever carries a token, an Authorization header or a signed URL's query.
"""

from __future__ import annotations

from typing import Any, ClassVar

# typed causes of CopilotAccessDenied.reason, each from GitHub's own answer (docs/architecture.md decision 12): a 403,
# the legacy 422 naming the metrics setting, or a 404 naming a missing Copilot subscription
ACCESS_DENIED_REASONS = (
    "policy_disabled",  # the org's "Copilot usage metrics" policy is off (403; legacy 422)
    "no_subscription",  # no Copilot Business/Enterprise subscription (404 "Copilot Business is not enabled ...")
    "insufficient_permissions",  # token user is not an org owner / lacks the metrics role
    "missing_scope",  # classic token without read:org / fine-grained token without the permission
    "sso_required",  # SAML SSO not authorized for the token
    "oauth_restricted",  # org restricts OAuth apps
    "app_permission_missing",  # a GitHub App without the permission (403 "Resource not accessible by integration")
    "unknown",
)


class GitHubError(Exception):
    """Base of every error the GitHub client raises."""

    error_kind: ClassVar[str] = "github_error"
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        team: str | None = None,
        endpoint: str | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.team = team
        self.endpoint = endpoint  # path only, e.g. /orgs/acme/copilot/billing; never a query string
        self.attempts = attempts

    def __str__(self) -> str:
        where = f" [{self.endpoint}]" if self.endpoint else ""
        status = f"HTTP {self.http_status}: " if self.http_status else ""
        team = f" (team {self.team})" if self.team else ""
        return f"{status}{self.message}{where}{team}"

    def to_metadata(self) -> dict[str, Any]:
        """Flat, secret-free metadata for dagster.Failure / the failure sensor."""
        md: dict[str, Any] = {
            "error_kind": self.error_kind,
            "http_status": self.http_status if self.http_status is not None else 0,
            "team": self.team or "",
            "endpoint": self.endpoint or "",
            "attempts": self.attempts,
        }
        reason = getattr(self, "reason", None)
        if reason:
            md["reason"] = reason
        if getattr(self, "secondary", False):
            md["secondary_rate_limit"] = True
        return md


class TokenRevoked(GitHubError):
    """A 401: the credential is dead. ``reason`` says whose: None (a token: ``bad_credentials``), or a GitHub
    App's ``app_uninstalled`` / ``app_key_rejected`` (resources/statuses.py ``REVOKED_REASONS``)."""

    error_kind = "token_revoked"

    def __init__(self, message: str, *, reason: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.reason = reason


class CopilotAccessDenied(GitHubError):
    error_kind = "access_denied"

    def __init__(self, message: str, *, reason: str = "unknown", **kw: Any) -> None:
        super().__init__(message, **kw)
        self.reason = reason if reason in ACCESS_DENIED_REASONS else "unknown"


class NotFound(GitHubError):
    error_kind = "not_found"


class InvalidRequest(GitHubError):
    """400/422: a caller bug or an account problem GitHub reports as unprocessable."""

    error_kind = "invalid_request"


class RateLimited(GitHubError):
    """A primary (``x-ratelimit-remaining: 0``) or secondary ("You have exceeded a secondary rate limit")
    limit. ``retry_after`` is the wait GitHub asked for (``retry-after``, or until ``x-ratelimit-reset``),
    None when it named none; ``retry_after_source`` says which header it came from."""

    error_kind = "rate_limited"
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        secondary: bool = False,
        retry_after_source: str | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after
        self.secondary = secondary
        self.retry_after_source = retry_after_source if retry_after is not None else None


class GitHubUnavailable(GitHubError):
    error_kind = "unavailable"
    retryable = True


class MalformedReport(GitHubError):
    error_kind = "malformed_report"


class DownloadLinkExpired(GitHubError):
    """A signed download link was rejected; the client re-fetches the envelope once (decision 9)."""

    error_kind = "download_link_expired"


# a 401 or a 403 (or GitHub's other "access denied" answers): the rest of a team's days are not attempted
FATAL_KINDS = (TokenRevoked.error_kind, CopilotAccessDenied.error_kind)

ERROR_KINDS = {
    cls.error_kind: cls
    for cls in (
        TokenRevoked,
        CopilotAccessDenied,
        NotFound,
        InvalidRequest,
        RateLimited,
        GitHubUnavailable,
        MalformedReport,
        DownloadLinkExpired,
    )
}
