"""The HTTP side of GitHubClient: its two httpx clients (REST: the token on the API origin only, redirects
followed by hand; downloads: never the token), the retry loop of transient errors, the rate-limit budget
(every wait logged), and where the token comes from (a ``TokenSource``: a static token, or a GitHub App
installation whose token is refreshed once on a 401)."""

from __future__ import annotations

import functools
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from resources.github.app_auth import StaticToken, TokenSource
from resources.github.classify import (
    RATE_LIMIT_BUDGET_SECONDS,
    RATE_LIMIT_CAP_SECONDS,
    backoff_wait,
    classify_error,
    rate_limit_wait,
)
from resources.github_errors import (
    CopilotAccessDenied,
    GitHubError,
    GitHubUnavailable,
    InvalidRequest,
    MalformedReport,
    RateLimited,
    TokenRevoked,
)

API_VERSION = "2026-03-10"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5

logger = logging.getLogger("resources.github")  # one logger for the whole client, as before the package
T = TypeVar("T")


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


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    scheme = url.scheme.lower()
    return scheme, url.host.lower(), url.port or _DEFAULT_PORTS.get(scheme)


def _netloc(url: httpx.URL) -> str:
    return f"{url.host}:{url.port}" if url.port else url.host


# ---------------------------------------------------------------- connections


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context per process, shared by every client (an SSLContext is thread-safe to share).

    Building one loads the CA bundle: ≈ 20 ms of CPU, and each GitHubClient holds two httpx clients —
    a third of a nightly step's CPU went there before (issue 9, docs/benchmarks.md). httpx's own
    defaults apply (certifi, or SSL_CERT_FILE / SSL_CERT_DIR when set)."""
    return httpx.create_ssl_context()


class GitHubTransport:
    """Connections, token placement, redirects and retries of one GitHubClient (its base class)."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str | None = None,
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
        auth: TokenSource | None = None,
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
        self._auth: TokenSource = auth if auth is not None else StaticToken(token or "")
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

    @property
    def auth_kind(self) -> str:
        """``token`` or ``github_app``: how this client authenticates (never the credential itself)."""
        return self._auth.kind

    def _rest_once(self, url: str, params: dict[str, Any] | None, endpoint: str,
                   used: list[str] | None = None) -> httpx.Response:
        """One request (and its redirects). ``used`` receives the bearer token sent, so a 401 can drop
        exactly that one from a cache."""
        request = self._http.build_request("GET", url, params=params)
        hops = 0
        while True:
            with_token = self._same_origin(request.url)
            if with_token:
                bearer = self._auth.bearer()
                if used is not None:
                    used.append(bearer)
                request.headers["Authorization"] = f"Bearer {bearer}"
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

    def _rest_authorized(self, url: str, params: dict[str, Any] | None, endpoint: str) -> httpx.Response:
        """A request whose 401 gets one more try with a fresh token when the token source can refresh (a
        GitHub App installation token that expired or was revoked early); a 401 after that is final."""
        used: list[str] = []
        try:
            return self._rest_once(url, params, endpoint, used)
        except TokenRevoked as err:
            if not used or not self._auth.refresh(used[-1]):
                raise self._auth.revoked(err) from None
        try:
            return self._rest_once(url, params, endpoint)
        except TokenRevoked as err:
            raise self._auth.revoked(err) from None

    def _get(self, url: str, params: dict[str, Any] | None = None) -> httpx.Response:
        endpoint = urlsplit(url).path if "://" in url else url.split("?", 1)[0]
        return self._with_retries(endpoint, lambda: self._rest_authorized(url, params, endpoint))

    def _json_body(self, resp: httpx.Response, what: str, endpoint: str) -> Any:
        try:
            return resp.json()
        except ValueError:
            raise self._err(
                MalformedReport, f"{what}: response body is not valid JSON", endpoint, resp.status_code
            ) from None
