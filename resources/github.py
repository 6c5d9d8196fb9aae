"""GitHub Copilot REST client (reports API, billing, seats) and its Dagster resource.

- Typed errors (resources/github_errors.py) decided by ``classify_error`` from status + GitHub's JSON error
  body + headers; never from exception text.
- Transient errors (5xx, timeouts) are retried with exponential backoff and full jitter, bounded by
  ``max_attempts`` and ``max_retry_seconds``. Rate limits (primary and secondary, reference §4.4) honour
  ``retry-after`` / ``x-ratelimit-reset``, else wait ≥ 60 s with capped exponential backoff; every wait is
  logged, and one client's waits are bounded by ``rate_limit_budget_seconds`` (then RateLimited at once).
- A 204, a 404, a bare JSON string or an empty body for one day of a 1-day report is ``NotReady`` (falsy),
  never an error (design §9 decision 11).
- Report envelopes → every signed download link is fetched right away WITHOUT the Authorization header,
  stream-parsed line by line, and merged (or spooled per day to temp files: ``report_latest_28_by_day``);
  a rejected link (401/403/404) re-fetches the envelope once.
- REST redirects (301/302/303/307/308, ≤ 5 hops) are followed by the client itself. The Authorization
  header goes only to the API origin (scheme, host, port of ``base_url``): never to a download link, a
  redirect target or a ``Link: rel="next"`` URL on another origin.
- The token never appears in repr(), logs or exception text; errors carry the path only (no query string,
  never a download URL); a logging filter strips URL queries from httpx/httpcore log records.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import random
import re
import ssl
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any, TypeVar
from urllib.parse import urlsplit

import dagster as dg
import httpx
from pydantic import Field, field_validator

from resources import settings
from resources.github_errors import (
    CopilotAccessDenied,
    DownloadLinkExpired,
    GitHubError,
    GitHubUnavailable,
    InvalidRequest,
    MalformedReport,
    NotFound,
    RateLimited,
    TokenRevoked,
)

PUBLIC_API_URL = settings.DEFAULT_GITHUB_API_URL
API_VERSION = "2026-03-10"
ENV_API_URL = settings.GITHUB_API_URL_ENV
LATEST_REPORTS = ("organization-28-day", "users-28-day")
# GitHub added the org endpoint user-teams-1-day on 2026-05-14 (reference §1.1; there is no 28-day variant).
# One production client (navikt) saw data only from 2026-05-15; whether earlier days are served is
# unconfirmed. Days before this floor are not asked for (a long backfill would spend one REST call per day
# on them): copilot_user_usage stores per-user rows only and keeps any GitHub team rows already stored.
# Operators can move the floor with GitHubResource.user_teams_available_from (e.g. earlier, to probe).
USER_TEAMS_REPORT = "user-teams-1-day"
USER_TEAMS_AVAILABLE_FROM = date(2026, 5, 14)
USER_TEAMS_FLOOR_CONFIG = "GitHubResource.user_teams_available_from"
ONE_DAY_REPORTS = ("organization-1-day", "users-1-day", USER_TEAMS_REPORT)
SPOOLED_REPORTS = ("users-28-day",)
NOT_READY_WHY = ("http_204", "http_404", "no_report_available", "empty_body")
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
# rate limits (reference §4.4): without retry-after / x-ratelimit-reset wait at least a minute, then back off
SECONDARY_MIN_WAIT = 60.0
RATE_LIMIT_CAP_SECONDS = 900.0
RATE_LIMIT_BUDGET_SECONDS = 300.0
RATE_LIMIT_JITTER = 1.25
_SPOOL_OPEN_FILES = 8  # per shard being downloaded (one file per day; reopened in append mode past this)
_MAX_MESSAGE = 300

logger = logging.getLogger(__name__)
T = TypeVar("T")


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


# ---------------------------------------------------------------- logs never carry signed URLs

# "?" up to the end of a URL/path token, when the token carries a query (key=value)
_QUERY_RE = re.compile(r"\?[^\s'\"<>()\[\],]*=[^\s'\"<>()\[\],]*")
_SIG_RE = re.compile(r"(?i)[?&;]?\bsig=[^\s&'\"<>]*")
_BEARER_RE = re.compile(r"(?i)\b(bearer|token)(\s+|%20)[A-Za-z0-9_\-.~+/=]{8,}")
_TOKEN_RE = re.compile(r"\b(gh[opusr]_[A-Za-z0-9_]{10,}|github_pat_[A-Za-z0-9_]{10,})\b")


def scrub_text(text: str) -> str:
    """Drop every URL/path query string (signed links carry ``sig``/``se``/``st``) and any token."""
    text = _QUERY_RE.sub("", text)
    text = _SIG_RE.sub("", text)
    text = _BEARER_RE.sub(r"\1 [redacted]", text)
    return _TOKEN_RE.sub("[redacted]", text)


class _DropUrlQueries(logging.Filter):
    """On the httpx/httpcore loggers: httpx logs "HTTP Request: GET <full url> ..." at INFO and httpcore
    traces requests/headers at DEBUG. The record is rendered once, its URL queries dropped, and kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is not ours to fix; never let its raw args through
            message = str(record.msg)
        record.msg = scrub_text(message)
        record.args = None
        return True


HTTP_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)
_URL_FILTER = _DropUrlQueries()


def install_log_filter() -> None:
    """Idempotent; run at import. Logger filters do not apply to child loggers, hence the full list."""
    for name in HTTP_LOGGERS:
        lg = logging.getLogger(name)
        if not any(isinstance(f, _DropUrlQueries) for f in lg.filters):
            lg.addFilter(_URL_FILTER)


install_log_filter()


# ---------------------------------------------------------------- classification (pure)


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


def _retry_after_with_source(
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
    msg = _TOKEN_RE.sub("[redacted]", msg)
    return msg[:_MAX_MESSAGE]


_NOT_ENABLED = "is not enabled for this organization"


def _no_subscription(lower: str) -> bool:
    """GitHub's words for an org without Copilot Business/Enterprise ("Copilot Business is not enabled for
    this organization.", reference §3.1)."""
    return "copilot" in lower and (_NOT_ENABLED in lower or "subscription" in lower)


def access_denied_reason(message: str, headers: Mapping[str, str] | None = None) -> str:
    m = message.lower()
    if "policy" in m and ("metrics" in m or "enabled" in m or "copilot" in m):
        return "policy_disabled"
    if "saml" in m or "single sign-on" in m or _header(headers, "x-github-sso"):
        return "sso_required"
    if "oauth app access restrictions" in m:
        return "oauth_restricted"
    if "resource not accessible by" in m:
        return "missing_scope"
    if "insufficient permissions" in m or "requires admin" in m or "organization role" in m:
        return "insufficient_permissions"
    if _no_subscription(m):
        return "no_subscription"
    if "scope" in m or _header(headers, "x-accepted-github-permissions"):
        return "missing_scope"
    return "unknown"


# the legacy metrics API's 422 when its policy was off (reference §2.4); older paths may still answer it
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
            wait, source = _retry_after_with_source(headers, now)
            return RateLimited(msg, retry_after=wait, secondary=secondary, retry_after_source=source, **kw)
        return CopilotAccessDenied(msg, reason=access_denied_reason(msg, headers), **kw)
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
    """Seconds to wait after the ``n``-th rate-limited answer of one request (reference §4.4).

    ``retry-after`` (or the time to ``x-ratelimit-reset`` when ``x-ratelimit-remaining`` is 0) is honoured
    as given. Otherwise: min(cap, 60·2^(n−1)) stretched by a jitter factor in [1, 1.25), never above
    ``cap`` and never below 60 s — a rate limit is never retried within seconds."""
    if err.retry_after is not None:
        return float(err.retry_after)
    base = min(cap, SECONDARY_MIN_WAIT * 2 ** (max(1, n) - 1))
    wait = min(cap, base * rng.uniform(1.0, RATE_LIMIT_JITTER))
    return max(SECONDARY_MIN_WAIT, wait)


# ---------------------------------------------------------------- data types


@dataclass
class Report:
    report: str
    day: date | None
    start_day: date | None
    end_day: date | None
    records: list[dict] = field(default_factory=list)
    shards: int = 0


@dataclass(frozen=True)
class NotReady:
    """GitHub has no report (yet) for this day: 204, 404 (1-day reports only), the bare JSON string quirk
    ("No report available") or an empty body. Not a failure (design §9 decision 11); falsy, so
    ``if not report:`` covers it."""

    report: str
    day: date | None
    why: str

    def __post_init__(self) -> None:
        if self.why not in NOT_READY_WHY:
            raise ValueError(f"NotReady.why must be one of {NOT_READY_WHY}, got {self.why!r}")

    def __bool__(self) -> bool:
        return False


class DaySpool:
    """A downloaded per-user 28-day report, spooled to one temp file per day and shard (raw NDJSON lines,
    stdlib ``tempfile`` under a TemporaryDirectory). Memory holds counters only; ``records(day)`` parses
    that day's lines lazily, shards in order (so the order is the one of the unsharded report).

    Records without a valid ``day`` are counted in ``skipped_without_day``, not stored. Close it (or use
    it as a context manager) to remove the files."""

    def __init__(self, report: str, start_day: date | None, end_day: date | None, shards: int) -> None:
        self.report = report
        self.start_day = start_day
        self.end_day = end_day
        self.shards = shards
        self._tmp: tempfile.TemporaryDirectory[str] | None = tempfile.TemporaryDirectory(prefix="copilot-spool-")
        self._dir = self._tmp.name
        self._lock = threading.Lock()
        self._counts: dict[tuple[date, int], int] = {}
        self._skipped: dict[int, int] = {}

    # -- reading
    def days(self) -> list[date]:
        with self._lock:
            return sorted({d for d, _ in self._counts})

    @property
    def record_count(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    @property
    def skipped_without_day(self) -> int:
        with self._lock:
            return sum(self._skipped.values())

    def day_count(self, day: date) -> int:
        with self._lock:
            return sum(n for (d, _), n in self._counts.items() if d == day)

    def records(self, day: date) -> Iterator[dict]:
        """This day's records, parsed one line at a time."""
        self._check_open()
        with self._lock:
            shards = sorted(k for d, k in self._counts if d == day)
        for k in shards:
            with open(self._path(day, k), "rb") as fh:
                for line in fh:
                    if line.strip():
                        yield json.loads(line)

    # -- lifecycle
    @property
    def closed(self) -> bool:
        return self._tmp is None

    def close(self) -> None:
        tmp, self._tmp = self._tmp, None
        if tmp is not None:
            tmp.cleanup()

    def __enter__(self) -> DaySpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"DaySpool(report={self.report!r}, start_day={self.start_day}, end_day={self.end_day}, "
            f"shards={self.shards}, days={len(self.days())}, records={self.record_count}, closed={self.closed})"
        )

    # -- writing (the client)
    def _check_open(self) -> None:
        if self._tmp is None:
            raise ValueError("DaySpool is closed")

    def _path(self, day: date, shard: int) -> str:
        return os.path.join(self._dir, f"{day.isoformat()}.{shard:05d}.ndjson")

    def _discard_shard(self, shard: int) -> None:
        """Forget whatever an earlier (failed) attempt of this shard wrote."""
        suffix = f".{shard:05d}.ndjson"
        with self._lock:
            for key in [key for key in self._counts if key[1] == shard]:
                del self._counts[key]
            self._skipped.pop(shard, None)
        for name in os.listdir(self._dir):
            if name.endswith(suffix):
                os.remove(os.path.join(self._dir, name))

    def _write_shard(self, shard: int, items: Iterable[tuple[str, dict]]) -> None:
        self._check_open()
        self._discard_shard(shard)
        counts: dict[date, int] = {}
        skipped = 0
        handles: OrderedDict[date, IO[bytes]] = OrderedDict()
        try:
            for raw, rec in items:
                day = _parse_day(rec.get("day"))
                if day is None:
                    skipped += 1
                    continue
                fh = handles.get(day)
                if fh is None:
                    if len(handles) >= _SPOOL_OPEN_FILES:
                        handles.popitem(last=False)[1].close()
                    fh = handles[day] = open(self._path(day, shard), "ab")  # closed in finally
                else:
                    handles.move_to_end(day)
                fh.write(raw.encode("utf-8"))
                fh.write(b"\n")
                counts[day] = counts.get(day, 0) + 1
        finally:
            for fh in handles.values():
                fh.close()
        with self._lock:
            for day, n in counts.items():
                self._counts[(day, shard)] = n
            self._skipped[shard] = skipped


class CallCounter:
    """Thread-safe counts of GitHub calls (REST, downloads, retries)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rest = 0
        self.downloads = 0
        self.retries = 0

    def add(self, what: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, what, getattr(self, what) + n)

    @property
    def total(self) -> int:
        return self.rest + self.downloads

    def as_dict(self) -> dict[str, int]:
        return {"rest": self.rest, "downloads": self.downloads, "retries": self.retries, "total": self.total}

    def __repr__(self) -> str:
        return f"CallCounter(rest={self.rest}, downloads={self.downloads}, retries={self.retries})"


class _LinkRejected(Exception):
    def __init__(self, status: int, shard: int) -> None:
        super().__init__(f"download link rejected (HTTP {status}) for shard {shard}")
        self.status = status
        self.shard = shard


def _parse_day(v: Any) -> date | None:
    if not isinstance(v, str):
        return None
    try:
        return date.fromisoformat(v[:10])
    except ValueError:
        return None


def _parse_link_next(link: str | None) -> str | None:
    if not link:
        return None
    for part in link.split(","):
        m = re.match(r"\s*<([^>]+)>\s*;(.*)", part)
        if m and re.search(r'rel\s*=\s*"?next"?', m.group(2)):
            return m.group(1)
    return None


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    scheme = url.scheme.lower()
    return scheme, url.host.lower(), url.port or _DEFAULT_PORTS.get(scheme)


def _netloc(url: httpx.URL) -> str:
    return f"{url.host}:{url.port}" if url.port else url.host


# ---------------------------------------------------------------- client


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context per process, shared by every client (an SSLContext is thread-safe to share).

    Building one loads the CA bundle: ≈ 20 ms of CPU, and each GitHubClient holds two httpx clients —
    a third of a nightly step's CPU went there before (issue 9, docs/benchmarks.md). httpx's own
    defaults apply (certifi, or SSL_CERT_FILE / SSL_CERT_DIR when set)."""
    return httpx.create_ssl_context()


class GitHubClient:
    """One per team sync (one org, one token). Thread-safe enough for parallel shard downloads."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        team: str,
        org: str,
        max_attempts: int = 4,
        max_retry_seconds: float = 30.0,
        backoff_base: float = 0.5,
        timeout_seconds: float = 30.0,
        max_concurrency: int = 4,
        user_teams_available_from: date | None = None,
        user_agent: str = "copilot-data-flow",
        rate_limit_budget_seconds: float = RATE_LIMIT_BUDGET_SECONDS,
        rate_limit_cap_seconds: float = RATE_LIMIT_CAP_SECONDS,
        rate_limit_max_attempts: int | None = None,
        log: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.team = team
        self.org = org
        self.max_attempts = max(1, int(max_attempts))
        self.max_retry_seconds = float(max_retry_seconds)
        self.backoff_base = float(backoff_base)
        self.timeout_seconds = float(timeout_seconds)
        self.max_concurrency = max(1, int(max_concurrency))
        # first day GitHub is expected to serve user-teams-1-day for (None = no floor); read by the fetcher
        self.user_teams_available_from = user_teams_available_from
        self.user_agent = user_agent
        # cumulative seconds this client may wait on rate limits (primary or secondary), all requests together
        self.rate_limit_budget_seconds = max(0.0, float(rate_limit_budget_seconds))
        self.rate_limit_cap_seconds = float(rate_limit_cap_seconds)
        # rate-limited requests get max_attempts attempts too, unless told otherwise; their waits are
        # bounded by the budget (secondary limits: ≥ 60 s each), not by max_retry_seconds
        self.rate_limit_max_attempts = max(1, int(rate_limit_max_attempts or self.max_attempts))
        self.rate_limit_waited = 0.0
        self.calls = CallCounter()
        self._token = token
        self._log = log or logger.warning
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self._budget_lock = threading.Lock()
        self._sem = threading.BoundedSemaphore(self.max_concurrency)
        limits = httpx.Limits(max_connections=self.max_concurrency, max_keepalive_connections=self.max_concurrency)
        common = {"User-Agent": user_agent}
        # REST: no default Authorization header (added per request for the API origin only) and no
        # automatic redirects (followed in _rest_once, which decides the headers of every hop)
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={**common, "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION},
            timeout=self.timeout_seconds,
            limits=limits,
            follow_redirects=False,
            transport=transport,
            verify=shared_ssl_context(),
        )
        self._api_origin = _origin(self._http.base_url)
        # downloads: pre-signed URLs, never the GitHub Authorization header
        self._dl = httpx.Client(
            headers={**common, "Accept": "application/x-ndjson, application/json, */*"},
            timeout=self.timeout_seconds,
            limits=limits,
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            transport=transport,
            verify=shared_ssl_context(),
        )

    def __repr__(self) -> str:
        return f"GitHubClient(base_url={self.base_url!r}, org={self.org!r}, team={self.team!r})"

    __str__ = __repr__

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()
        self._dl.close()

    # -- retry loop
    def _with_retries(self, endpoint: str, fn: Callable[[], T]) -> T:
        start = self._clock()
        waited = 0.0  # transient backoff of this request
        limited_waited = 0.0  # rate-limit waits of this request (bounded by the client's budget instead)
        limited = 0
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn()
            except GitHubError as err:
                err.attempts = attempt
                if err.endpoint is None:
                    err.endpoint = endpoint
                if err.team is None:
                    err.team = self.team
                if not err.retryable:
                    raise
                if isinstance(err, RateLimited):
                    limited += 1
                    if attempt >= self.rate_limit_max_attempts:
                        raise
                    wait = self._rate_limit_wait(err, limited, attempt)
                    limited_waited += wait
                else:
                    if attempt >= self.max_attempts:
                        raise
                    with self._rng_lock:
                        wait = backoff_wait(err, attempt, self.backoff_base, self._rng)
                    spent = max(self._clock() - start - limited_waited, waited)
                    if spent + wait > self.max_retry_seconds:
                        raise
                    waited += wait
                self.calls.add("retries")
                self._sleep(wait)

    def _rate_limit_wait(self, err: RateLimited, n: int, attempt: int) -> float:
        """The wait before the next attempt, taken from the client's budget and logged; past the budget,
        the RateLimited error is raised at once (nothing is slept)."""
        with self._rng_lock:
            wait = rate_limit_wait(err, n, self._rng, self.rate_limit_cap_seconds)
        what = "secondary rate limit" if err.secondary else "rate limit"
        with self._budget_lock:
            used = self.rate_limit_waited
            budget = self.rate_limit_budget_seconds
            if used + wait > budget:
                raise RateLimited(
                    f"{what}: would wait {wait:.0f} s, past the rate-limit budget ({budget:.0f} s, {used:.0f} s "
                    f"used); GitHub said: {err.message}",
                    retry_after=wait,
                    secondary=err.secondary,
                    retry_after_source=err.retry_after_source,
                    http_status=err.http_status,
                    team=err.team,
                    endpoint=err.endpoint,
                    attempts=err.attempts,
                ) from None
            self.rate_limit_waited = used + wait
            left = budget - used - wait
        if err.retry_after_source == "retry-after":
            told = f"retry-after {err.retry_after:.0f} s"
        elif err.retry_after_source == "x-ratelimit-reset":
            told = f"x-ratelimit-reset in {err.retry_after:.0f} s"
        else:
            told = "no retry-after"
        status = f"HTTP {err.http_status}, " if err.http_status else ""
        self._log(
            f"{self.team}: GitHub {what} on {err.endpoint} ({status}{told}): waiting {wait:.0f} s before "
            f"attempt {attempt + 1} (budget left {left:.0f} s)"
        )
        return wait

    def _err(self, cls: type[GitHubError], msg: str, endpoint: str, status: int | None = None) -> GitHubError:
        return cls(msg, http_status=status, team=self.team, endpoint=endpoint)

    # -- REST
    def _same_origin(self, url: httpx.URL) -> bool:
        return _origin(url) == self._api_origin

    def _rest_once(self, url: str, params: dict[str, Any] | None, endpoint: str) -> httpx.Response:
        request = self._http.build_request("GET", url, params=params)
        hops = 0
        while True:
            with_token = self._same_origin(request.url)
            if with_token:
                request.headers["Authorization"] = f"Bearer {self._token}"
            self.calls.add("rest")
            try:
                with self._sem:
                    resp = self._http.send(request)
            except httpx.TimeoutException:
                raise self._err(GitHubUnavailable, "request timed out", endpoint) from None
            except httpx.TransportError as exc:
                raise self._err(GitHubUnavailable, f"transport error ({type(exc).__name__})", endpoint) from None
            if resp.status_code not in REDIRECT_STATUSES:
                break
            location = resp.headers.get("location")
            if not location:
                raise self._err(
                    InvalidRequest, f"HTTP {resp.status_code} redirect without a Location header", endpoint,
                    resp.status_code,
                )
            hops += 1
            if hops > MAX_REDIRECTS:
                raise self._err(InvalidRequest, f"more than {MAX_REDIRECTS} redirects", endpoint, resp.status_code)
            # every hop is a GET (303 included); the target decides whether the token goes along
            request = self._http.build_request("GET", request.url.join(location))
        if resp.status_code >= 400:
            body: dict | None = None
            try:
                parsed = resp.json()
                body = parsed if isinstance(parsed, dict) else None
            except ValueError:
                body = None
            err = classify_error(resp.status_code, body, resp.headers, team=self.team, endpoint=endpoint)
            if not with_token and isinstance(err, (TokenRevoked, CopilotAccessDenied)):
                # we sent no token to that host: its 401/403 says nothing about our token or access
                raise self._err(
                    InvalidRequest,
                    f"HTTP {resp.status_code} from {_netloc(request.url)}, a host other than the API host "
                    f"(no token is sent there): {err.message}",
                    endpoint,
                    resp.status_code,
                ) from None
            raise err
        return resp

    def _get(self, url: str, params: dict[str, Any] | None = None) -> httpx.Response:
        endpoint = urlsplit(url).path if "://" in url else url.split("?", 1)[0]
        return self._with_retries(endpoint, lambda: self._rest_once(url, params, endpoint))

    def _json_body(self, resp: httpx.Response, what: str, endpoint: str) -> Any:
        try:
            return resp.json()
        except ValueError:
            raise self._err(
                MalformedReport, f"{what}: response body is not valid JSON", endpoint, resp.status_code
            ) from None

    # -- reports
    def _org_path(self, suffix: str) -> str:
        return f"/orgs/{self.org}/copilot/{suffix}"

    def report_day(self, report: str, day: date) -> Report | NotReady:
        """One day of a 1-day report. A 204, a 404, the "No report available" string or an empty body is
        NotReady for that day, never an error."""
        if report not in ONE_DAY_REPORTS:
            raise ValueError(f"report must be one of {ONE_DAY_REPORTS}, got {report!r}")
        path = self._org_path(f"metrics/reports/{report}")
        got = self._fetch(report, path, {"day": day.isoformat()}, day, self._collect_records)
        return got if isinstance(got, NotReady) else self._report(report, *got)

    def report_latest_28(self, report: str) -> Report | NotReady:
        """A 28-day report in memory (organization-28-day is one small object). 204/string/empty body →
        NotReady; a 404 stays NotFound (the 28-day endpoints document no 204)."""
        if report not in LATEST_REPORTS:
            raise ValueError(f"report must be one of {LATEST_REPORTS}, got {report!r}")
        path = self._org_path(f"metrics/reports/{report}/latest")
        got = self._fetch(report, path, None, None, self._collect_records)
        return got if isinstance(got, NotReady) else self._report(report, *got)

    def report_latest_28_by_day(self, report: str) -> DaySpool | NotReady:
        """users-28-day/latest streamed into a DaySpool (one temp file per day): memory is bounded by one
        line, not by the report. The caller closes the spool (context manager)."""
        if report not in SPOOLED_REPORTS:
            raise ValueError(f"report must be one of {SPOOLED_REPORTS}, got {report!r}")
        path = self._org_path(f"metrics/reports/{report}/latest")
        got = self._fetch(report, path, None, None, self._collect_spool)
        return got if isinstance(got, NotReady) else got[2]

    @staticmethod
    def _report(report: str, env: dict, links: list[str], records: list[dict]) -> Report:
        return Report(
            report=report,
            day=_parse_day(env.get("report_day")),
            start_day=_parse_day(env.get("report_start_day")),
            end_day=_parse_day(env.get("report_end_day")),
            records=records,
            shards=len(links),
        )

    def _envelope(
        self, report: str, path: str, params: dict[str, Any] | None, day: date | None
    ) -> tuple[dict, list[str]] | NotReady:
        try:
            resp = self._get(path, params)
        except NotFound:
            if report in ONE_DAY_REPORTS:  # a 404 for a specific day = no report for it (yet)
                return NotReady(report, day, "http_404")
            raise
        if resp.status_code == 204:
            return NotReady(report, day, "http_204")
        if not resp.content.strip():
            return NotReady(report, day, "empty_body")
        env = self._json_body(resp, f"{report} envelope", path)
        if isinstance(env, str):  # e.g. "No report available" (observed quirk) = not ready
            return NotReady(report, day, "no_report_available")
        links = env.get("download_links") if isinstance(env, dict) else None
        if not isinstance(links, list) or not all(isinstance(u, str) and u for u in links):
            raise self._err(
                MalformedReport, f"{report}: envelope has no download_links list", path, resp.status_code
            )
        return env, links

    def _fetch(
        self,
        report: str,
        path: str,
        params: dict[str, Any] | None,
        day: date | None,
        collect: Callable[[str, dict, list[str], str], T],
    ) -> tuple[dict, list[str], T] | NotReady:
        for round_no in (1, 2):
            got = self._envelope(report, path, params, day)
            if isinstance(got, NotReady):
                return got
            env, links = got
            try:
                return env, links, collect(report, env, links, path)
            except _LinkRejected as rej:
                if round_no == 1:
                    continue  # links expired/rejected: fetch a fresh envelope once (design §9.9)
                raise self._err(
                    DownloadLinkExpired,
                    f"{report}: download link for shard {rej.shard} rejected twice (HTTP {rej.status})",
                    path,
                    rej.status,
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _collect_records(self, report: str, env: dict, links: list[str], endpoint: str) -> list[dict]:
        def consume(shard: int, lines: Iterator[str]) -> list[dict]:
            return parse_shard(lines, report=report, shard=shard, team=self.team, endpoint=endpoint)

        out: list[dict] = []
        for part in self._download_all(report, links, endpoint, consume):
            out.extend(part)
        return out

    def _collect_spool(self, report: str, env: dict, links: list[str], endpoint: str) -> DaySpool:
        spool = DaySpool(
            report, _parse_day(env.get("report_start_day")), _parse_day(env.get("report_end_day")), len(links)
        )

        def consume(shard: int, lines: Iterator[str]) -> None:
            # a retried shard starts over: _write_shard discards what the failed attempt wrote
            spool._write_shard(
                shard, _iter_items(lines, report=report, shard=shard, team=self.team, endpoint=endpoint)
            )

        try:
            self._download_all(report, links, endpoint, consume)
        except BaseException:
            spool.close()  # a malformed shard or a rejected link discards the whole spool
            raise
        return spool

    def _download_all(
        self, report: str, links: list[str], endpoint: str, consume: Callable[[int, Iterator[str]], T]
    ) -> list[T]:
        if len(links) <= 1:
            return [self._download(report, i, u, endpoint, consume) for i, u in enumerate(links)]
        workers = min(self.max_concurrency, len(links))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gh-shard") as pool:
            futures = [pool.submit(self._download, report, i, u, endpoint, consume) for i, u in enumerate(links)]
            try:
                return [f.result() for f in futures]
            except BaseException:
                for f in futures:  # one shard failed: don't start the ones still queued
                    f.cancel()
                raise

    def _download(
        self, report: str, shard: int, url: str, endpoint: str, consume: Callable[[int, Iterator[str]], T]
    ) -> T:
        return self._with_retries(endpoint, lambda: self._download_once(report, shard, url, endpoint, consume))

    def _download_once(
        self, report: str, shard: int, url: str, endpoint: str, consume: Callable[[int, Iterator[str]], T]
    ) -> T:
        self.calls.add("downloads")
        failed = f"{report}: download of shard {shard}"
        try:
            with self._sem, self._dl.stream("GET", url) as resp:
                if resp.status_code in (401, 403, 404):
                    raise _LinkRejected(resp.status_code, shard)
                if resp.status_code == 429:
                    wait, source = _retry_after_with_source(resp.headers)
                    raise RateLimited(
                        f"{failed} rate limited", retry_after=wait, retry_after_source=source,
                        http_status=429, team=self.team, endpoint=endpoint,
                    )
                if resp.status_code >= 500:
                    raise self._err(GitHubUnavailable, f"{failed} failed", endpoint, resp.status_code)
                if resp.status_code >= 300:
                    raise self._err(MalformedReport, f"{failed} failed", endpoint, resp.status_code)
                return consume(shard, resp.iter_lines())
        except httpx.TooManyRedirects:
            raise self._err(MalformedReport, f"{failed}: more than {MAX_REDIRECTS} redirects", endpoint) from None
        except httpx.TimeoutException:
            raise self._err(GitHubUnavailable, f"{failed} timed out", endpoint) from None
        except httpx.TransportError as exc:
            raise self._err(GitHubUnavailable, f"{failed} interrupted ({type(exc).__name__})", endpoint) from None

    # -- billing / seats
    def billing(self) -> dict:
        path = self._org_path("billing")
        body = self._json_body(self._get(path), "billing", path)
        if not isinstance(body, dict):
            raise self._err(MalformedReport, "billing: response is not a JSON object", path, 200)
        return body

    def seats(self) -> list[dict]:
        path = self._org_path("billing/seats")
        url: str | None = path
        params: dict[str, Any] | None = {"per_page": 100}
        out: list[dict] = []
        pages = 0
        while url:
            resp = self._get(url, params)
            pages += 1
            body = self._json_body(resp, "seats", path)
            seats = body.get("seats") if isinstance(body, dict) else None
            if not isinstance(seats, list):
                raise self._err(MalformedReport, f"seats: page {pages} has no seats list", path, 200)
            out.extend(s for s in seats if isinstance(s, dict))
            url = _parse_link_next(resp.headers.get("link"))
            params = None  # follow the Link URL as given (the token goes along only to the API origin)
            if pages > 10_000:  # a broken Link chain must not loop forever
                raise self._err(MalformedReport, "seats: pagination does not end", path, 200)
        return out


def _iter_items(
    lines: Iterable[str],
    *,
    report: str,
    shard: int,
    team: str | None = None,
    endpoint: str | None = None,
) -> Iterator[tuple[str, dict]]:
    """(raw line, record) for each record of one report file, streaming. NDJSON lines are yielded as sent;
    a record out of a JSON array or a pretty-printed document is re-encoded compactly."""
    it: Iterator[str] = iter(lines)
    lineno = 0
    first_content_line = None

    def bad(n: int, what: str) -> MalformedReport:
        return MalformedReport(
            f"{report}: shard {shard} line {n}: {what}", http_status=200, team=team, endpoint=endpoint
        )

    for raw in it:
        lineno += 1
        line = raw.strip()
        if not line:
            continue
        if first_content_line is None:
            first_content_line = lineno
        try:
            obj = json.loads(line)
        except ValueError:
            if lineno == first_content_line and line[:1] in "{[":
                # maybe one pretty-printed document: read the rest of the shard and parse it whole
                rest = "\n".join([line, *it]).rstrip()
                try:
                    obj = json.loads(rest)
                except ValueError as exc:
                    n = lineno + rest.count("\n", 0, getattr(exc, "pos", 0))
                    raise bad(n, "invalid JSON (truncated or malformed)") from None
                yield from _items(obj, None, lambda what, n=lineno: bad(n, what))
                return
            raise bad(lineno, "invalid JSON (truncated or malformed)") from None
        yield from _items(obj, line, lambda what, n=lineno: bad(n, what))


def _items(obj: Any, line: str | None, bad: Callable[[str], MalformedReport]) -> Iterator[tuple[str, dict]]:
    if isinstance(obj, dict):
        yield (line if line is not None else json.dumps(obj, separators=(",", ":"))), obj
    elif isinstance(obj, list):
        for item in obj:
            if not isinstance(item, dict):
                raise bad("array item is not a JSON object")
            yield json.dumps(item, separators=(",", ":")), item
    else:
        raise bad("not a JSON object")


def iter_shard(
    lines: Iterable[str],
    *,
    report: str,
    shard: int,
    team: str | None = None,
    endpoint: str | None = None,
) -> Iterator[dict]:
    """Stream the records of one report file: NDJSON (one object per line), or one JSON object / array
    (possibly pretty-printed). Blank lines are skipped; unknown keys are kept. Raises MalformedReport naming
    the report, shard index and line number (never the URL) when it reaches a bad line."""
    for _, obj in _iter_items(lines, report=report, shard=shard, team=team, endpoint=endpoint):
        yield obj


def parse_shard(
    lines: Iterable[str],
    *,
    report: str,
    shard: int,
    team: str | None = None,
    endpoint: str | None = None,
) -> list[dict]:
    """``iter_shard`` as a list (a whole file in memory: for the small reports)."""
    return list(iter_shard(lines, report=report, shard=shard, team=team, endpoint=endpoint))


# ---------------------------------------------------------------- dagster resource


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
        self, *, team: str, org: str, token: str, log: Callable[[str], None] | None = None
    ) -> GitHubClient:
        """``log`` receives one line per rate-limit wait (e.g. ``context.log.warning``)."""
        return GitHubClient(
            base_url=self.base_url or default_base_url(),
            token=token,
            team=team,
            org=org,
            max_attempts=self.max_attempts,
            max_retry_seconds=self.max_retry_seconds,
            backoff_base=self.backoff_base,
            timeout_seconds=self.timeout_seconds,
            max_concurrency=self.max_concurrency_per_org,
            user_teams_available_from=parse_user_teams_floor(self.user_teams_available_from),
            rate_limit_budget_seconds=self.rate_limit_budget_seconds,
            log=log,
        )
