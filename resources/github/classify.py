"""Classification of GitHub's answers (pure, no I/O): typed errors from status + JSON error body + headers
(never from exception text), access-denied reasons, message cleaning, and the wait maths of transient
errors (backoff with full jitter) and rate limits (GitHub's rate-limit docs)."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Mapping
from typing import Any

import httpx

from resources.github.logs import TOKEN_RE
from resources.github_errors import (
    CopilotAccessDenied,
    GitHubError,
    GitHubUnavailable,
    InvalidRequest,
    NotFound,
    RateLimited,
    TokenRevoked,
)

# rate limits (GitHub's rate-limit docs): without retry-after / x-ratelimit-reset wait at least a minute, then back off
SECONDARY_MIN_WAIT = 60.0
RATE_LIMIT_CAP_SECONDS = 900.0
RATE_LIMIT_BUDGET_SECONDS = 300.0
RATE_LIMIT_JITTER = 1.25
_MAX_MESSAGE = 300


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    if isinstance(headers, httpx.Headers):
        return headers.get(name)
    lname = name.lower()
    for k, v in headers.items():
        if k.lower() == lname:
            return v
    return None


def _float(v: str | None) -> float | None:
    if v is None:
        return None
    try:
        return float(v.strip())
    except ValueError:
        return None


def retry_after_with_source(
    headers: Mapping[str, str] | None, now: float | None = None
) -> tuple[float | None, str | None]:
    ra = _float(_header(headers, "retry-after"))
    if ra is not None:
        return max(0.0, ra), "retry-after"
    if _header(headers, "x-ratelimit-remaining") == "0":
        reset = _float(_header(headers, "x-ratelimit-reset"))
        if reset is not None:
            return max(0.0, reset - (time.time() if now is None else now)), "x-ratelimit-reset"
    return None, None


def _clean_message(body: Any, status: int) -> str:
    msg = body.get("message") if isinstance(body, dict) else None
    if not isinstance(msg, str) or not msg.strip():
        return {401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}.get(status, f"HTTP {status}")
    msg = " ".join(msg.split())
    # defensively drop anything that looks like a URL query or a token
    msg = re.sub(r"\?\S*", "?…", msg)
    msg = TOKEN_RE.sub("[redacted]", msg)
    return msg[:_MAX_MESSAGE]


_NOT_ENABLED = "is not enabled for this organization"


def _no_subscription(lower: str) -> bool:
    """GitHub's words for an org without Copilot Business/Enterprise ("Copilot Business is not enabled for
    this organization.", GitHub's Copilot billing reference)."""
    return "copilot" in lower and (_NOT_ENABLED in lower or "subscription" in lower)


def access_denied_reason(message: str, headers: Mapping[str, str] | None = None) -> str:
    m = message.lower()
    if "policy" in m and ("metrics" in m or "enabled" in m or "copilot" in m):
        return "policy_disabled"
    if "saml" in m or "single sign-on" in m or _header(headers, "x-github-sso"):
        return "sso_required"
    if "oauth app access restrictions" in m:
        return "oauth_restricted"
    if "resource not accessible by integration" in m:  # a GitHub App installation token
        return "app_permission_missing"
    if "resource not accessible by" in m:
        return "missing_scope"
    if "insufficient permissions" in m or "requires admin" in m or "organization role" in m:
        return "insufficient_permissions"
    if _no_subscription(m):
        return "no_subscription"
    if "scope" in m or _header(headers, "x-accepted-github-permissions"):
        return "missing_scope"
    return "unknown"


# GitHub App permission slugs (X-Accepted-GitHub-Permissions) → the names GitHub's settings pages show
PERMISSION_NAMES = {
    "organization_copilot_metrics": "Organization Copilot metrics",
    "organization_copilot_seat_management": "GitHub Copilot Business",
    "organization_administration": "Administration",
}


def accepted_permissions(headers: Mapping[str, str] | None) -> str | None:
    """X-Accepted-GitHub-Permissions as settings names, e.g. "Organization Copilot metrics: read" (alternatives
    GitHub separates with ";" joined by " or "), or None without the header."""
    raw = _header(headers, "x-accepted-github-permissions")
    if not raw:
        return None
    names = []
    for alternative in raw.split(";"):
        parts = []
        for item in alternative.split(","):
            slug, _, level = item.strip().partition("=")
            if slug:
                parts.append(f"{PERMISSION_NAMES.get(slug, slug)}: {level or 'read'}")
        if parts:
            names.append(" and ".join(parts))
    return " or ".join(names)[:_MAX_MESSAGE] or None


# the legacy metrics API's 422 when its policy was off; older paths may still answer it
_LEGACY_POLICY_422 = "usage metrics api setting is disabled"


def classify_error(
    status: int,
    body: dict | None,
    headers: Mapping[str, str] | None = None,
    *,
    team: str | None = None,
    endpoint: str | None = None,
    attempts: int = 1,
    now: float | None = None,
) -> GitHubError:
    """Map an HTTP error answer to a typed GitHubError (pure; no I/O)."""
    msg = _clean_message(body, status)
    kw: dict[str, Any] = {"http_status": status, "team": team, "endpoint": endpoint, "attempts": attempts}
    lower = msg.lower()
    if status == 401:
        return TokenRevoked(msg, **kw)
    if status in (403, 429):
        secondary = "secondary rate limit" in lower
        limited = (
            status == 429
            or secondary
            or _header(headers, "retry-after") is not None
            or _header(headers, "x-ratelimit-remaining") == "0"
            or "rate limit" in lower
        )
        if limited:
            wait, source = retry_after_with_source(headers, now)
            return RateLimited(msg, retry_after=wait, secondary=secondary, retry_after_source=source, **kw)
        reason = access_denied_reason(msg, headers)
        needs = accepted_permissions(headers) if reason == "app_permission_missing" else None
        if needs:
            msg = f"{msg} (the GitHub App needs {needs})"
        return CopilotAccessDenied(msg, reason=reason, **kw)
    if status == 404:
        if "copilot" in lower and _NOT_ENABLED in lower:
            return CopilotAccessDenied(msg, reason="no_subscription", **kw)
        return NotFound(msg, **kw)
    if status == 422 and _LEGACY_POLICY_422 in lower:
        return CopilotAccessDenied(msg, reason="policy_disabled", **kw)
    if status in (400, 422):
        return InvalidRequest(msg, **kw)
    if status >= 500:
        return GitHubUnavailable(msg, **kw)
    if 400 <= status < 500:
        return InvalidRequest(msg, **kw)
    return GitHubError(msg, **kw)


def backoff_wait(err: GitHubError, attempt: int, base: float, rng: random.Random) -> float:
    """Seconds to wait before attempt ``attempt + 1`` of a transient error: retry-after if given, else
    full jitter."""
    ra = getattr(err, "retry_after", None)
    if ra is not None:
        return float(ra)
    return rng.uniform(0.0, base * (2 ** (attempt - 1)))


def rate_limit_wait(err: RateLimited, n: int, rng: random.Random, cap: float = RATE_LIMIT_CAP_SECONDS) -> float:
    """Seconds to wait after the ``n``-th rate-limited answer of one request (GitHub's rate-limit docs).

    ``retry-after`` (or the time to ``x-ratelimit-reset`` when ``x-ratelimit-remaining`` is 0) is honoured
    as given. Otherwise: min(cap, 60·2^(n−1)) stretched by a jitter factor in [1, 1.25), never above
    ``cap`` and never below 60 s — a rate limit is never retried within seconds."""
    if err.retry_after is not None:
        return float(err.retry_after)
    base = min(cap, SECONDARY_MIN_WAIT * 2 ** (max(1, n) - 1))
    wait = min(cap, base * rng.uniform(1.0, RATE_LIMIT_JITTER))
    return max(SECONDARY_MIN_WAIT, wait)
