"""GitHub Copilot REST client (reports API, billing, seats) and its Dagster resource.

- Typed errors (resources/github_errors.py) decided by ``classify_error`` from status + GitHub's JSON error
  body + headers; never from exception text.
- Retries only RateLimited / GitHubUnavailable: exponential backoff with full jitter, honouring
  ``retry-after`` and ``x-ratelimit-reset``, bounded by ``max_attempts`` and ``max_retry_seconds``.
- Report envelopes → every signed download link is fetched right away WITHOUT the Authorization header,
  stream-parsed line by line, and merged; a rejected link (401/403/404) re-fetches the envelope once.
- The token never appears in repr(), logs or exception text; errors carry the path only (no query string,
  never a download URL).
"""

from __future__ import annotations

import functools
import json
import os
import random
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import dagster as dg
import httpx
from pydantic import Field, field_validator

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

PUBLIC_API_URL = "https://api.github.com"
API_VERSION = "2026-03-10"
ENV_API_URL = "COPILOT_FLOW_GITHUB_API_URL"
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
_MAX_MESSAGE = 300


def default_base_url() -> str:
    return (os.environ.get(ENV_API_URL) or "").strip() or PUBLIC_API_URL


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


def _retry_after(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    ra = _float(_header(headers, "retry-after"))
    if ra is not None:
        return max(0.0, ra)
    if _header(headers, "x-ratelimit-remaining") == "0":
        reset = _float(_header(headers, "x-ratelimit-reset"))
        if reset is not None:
            return max(0.0, reset - (time.time() if now is None else now))
    return None


def _clean_message(body: Any, status: int) -> str:
    msg = body.get("message") if isinstance(body, dict) else None
    if not isinstance(msg, str) or not msg.strip():
        return {401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}.get(status, f"HTTP {status}")
    msg = " ".join(msg.split())
    # defensively drop anything that looks like a URL query or a token
    msg = re.sub(r"\?\S*", "?…", msg)
    msg = re.sub(r"\b(gh[opusr]_[A-Za-z0-9_]{10,}|github_pat_[A-Za-z0-9_]{10,})\b", "[redacted]", msg)
    return msg[:_MAX_MESSAGE]


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
    if "license" in m or "seat" in m or "subscription" in m or "copilot business is not enabled" in m:
        return "insufficient_licenses"
    if "scope" in m or _header(headers, "x-accepted-github-permissions"):
        return "missing_scope"
    return "unknown"


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
        limited = (
            status == 429
            or _header(headers, "retry-after") is not None
            or _header(headers, "x-ratelimit-remaining") == "0"
            or "rate limit" in lower
        )
        if limited:
            return RateLimited(msg, retry_after=_retry_after(headers, now), **kw)
        return CopilotAccessDenied(msg, reason=access_denied_reason(msg, headers), **kw)
    if status == 404:
        return NotFound(msg, **kw)
    if status in (400, 422):
        return InvalidRequest(msg, **kw)
    if status >= 500:
        return GitHubUnavailable(msg, **kw)
    if 400 <= status < 500:
        return InvalidRequest(msg, **kw)
    return GitHubError(msg, **kw)


def backoff_wait(err: GitHubError, attempt: int, base: float, rng: random.Random) -> float:
    """Seconds to wait before attempt ``attempt + 1``: retry-after if given, else full jitter."""
    ra = getattr(err, "retry_after", None)
    if ra is not None:
        return float(ra)
    return rng.uniform(0.0, base * (2 ** (attempt - 1)))


# ---------------------------------------------------------------- data types


@dataclass
class Report:
    report: str
    day: date | None
    start_day: date | None
    end_day: date | None
    records: list[dict] = field(default_factory=list)
    shards: int = 0


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
        sleep: Callable[[float], None] = time.sleep,
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
        self.calls = CallCounter()
        self._token = token
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self._sem = threading.BoundedSemaphore(self.max_concurrency)
        limits = httpx.Limits(max_connections=self.max_concurrency, max_keepalive_connections=self.max_concurrency)
        common = {"User-Agent": user_agent}
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={
                **common,
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "Authorization": f"Bearer {token}",
            },
            timeout=self.timeout_seconds,
            limits=limits,
            transport=transport,
            verify=shared_ssl_context(),
        )
        # downloads: pre-signed URLs, never the GitHub Authorization header
        self._dl = httpx.Client(
            headers={**common, "Accept": "application/x-ndjson, application/json, */*"},
            timeout=self.timeout_seconds,
            limits=limits,
            follow_redirects=True,
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
    def _with_retries(self, endpoint: str, fn: Callable[[], Any]) -> Any:
        start = time.monotonic()
        waited = 0.0
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
                if not err.retryable or attempt >= self.max_attempts:
                    raise
                with self._rng_lock:
                    wait = backoff_wait(err, attempt, self.backoff_base, self._rng)
                spent = max(time.monotonic() - start, waited)
                if spent + wait > self.max_retry_seconds:
                    raise
                self.calls.add("retries")
                self._sleep(wait)
                waited += wait

    def _err(self, cls: type[GitHubError], msg: str, endpoint: str, status: int | None = None) -> GitHubError:
        return cls(msg, http_status=status, team=self.team, endpoint=endpoint)

    # -- REST
    def _rest_once(self, url: str, params: dict[str, Any] | None, endpoint: str) -> httpx.Response:
        self.calls.add("rest")
        try:
            with self._sem:
                resp = self._http.get(url, params=params)
        except httpx.TimeoutException:
            raise self._err(GitHubUnavailable, "request timed out", endpoint) from None
        except httpx.TransportError as exc:
            raise self._err(GitHubUnavailable, f"transport error ({type(exc).__name__})", endpoint) from None
        if resp.status_code >= 400:
            body: dict | None = None
            try:
                parsed = resp.json()
                body = parsed if isinstance(parsed, dict) else None
            except ValueError:
                body = None
            raise classify_error(resp.status_code, body, resp.headers, team=self.team, endpoint=endpoint)
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

    def report_day(self, report: str, day: date) -> Report | None:
        if report not in ONE_DAY_REPORTS:
            raise ValueError(f"report must be one of {ONE_DAY_REPORTS}, got {report!r}")
        path = self._org_path(f"metrics/reports/{report}")
        return self._fetch_report(report, path, {"day": day.isoformat()})

    def report_latest_28(self, report: str) -> Report | None:
        if report not in LATEST_REPORTS:
            raise ValueError(f"report must be one of {LATEST_REPORTS}, got {report!r}")
        path = self._org_path(f"metrics/reports/{report}/latest")
        return self._fetch_report(report, path, None)

    def _fetch_report(self, report: str, path: str, params: dict[str, Any] | None) -> Report | None:
        for round_no in (1, 2):
            resp = self._get(path, params)
            if resp.status_code == 204 or not resp.content.strip():
                return None
            env = self._json_body(resp, f"{report} envelope", path)
            if isinstance(env, str):  # e.g. "No report available" (observed quirk) = not ready
                return None
            links = env.get("download_links") if isinstance(env, dict) else None
            if not isinstance(links, list) or not all(isinstance(u, str) and u for u in links):
                raise self._err(
                    MalformedReport, f"{report}: envelope has no download_links list", path, resp.status_code
                )
            try:
                records = self._download_all(report, links, path)
            except _LinkRejected as rej:
                if round_no == 1:
                    continue  # links expired/rejected: fetch a fresh envelope once (design §9.9)
                raise self._err(
                    DownloadLinkExpired,
                    f"{report}: download link for shard {rej.shard} rejected twice (HTTP {rej.status})",
                    path,
                    rej.status,
                ) from None
            return Report(
                report=report,
                day=_parse_day(env.get("report_day")),
                start_day=_parse_day(env.get("report_start_day")),
                end_day=_parse_day(env.get("report_end_day")),
                records=records,
                shards=len(links),
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def _download_all(self, report: str, links: list[str], endpoint: str) -> list[dict]:
        if len(links) <= 1:
            return [r for i, u in enumerate(links) for r in self._download(report, i, u, endpoint)]
        workers = min(self.max_concurrency, len(links))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gh-shard") as pool:
            futures = [pool.submit(self._download, report, i, u, endpoint) for i, u in enumerate(links)]
            parts = [f.result() for f in futures]
        out: list[dict] = []
        for p in parts:
            out.extend(p)
        return out

    def _download(self, report: str, shard: int, url: str, endpoint: str) -> list[dict]:
        return self._with_retries(endpoint, lambda: self._download_once(report, shard, url, endpoint))

    def _download_once(self, report: str, shard: int, url: str, endpoint: str) -> list[dict]:
        self.calls.add("downloads")
        try:
            with self._sem, self._dl.stream("GET", url) as resp:
                if resp.status_code in (401, 403, 404):
                    raise _LinkRejected(resp.status_code, shard)
                if resp.status_code == 429 or resp.status_code >= 500:
                    raise self._err(
                        RateLimited if resp.status_code == 429 else GitHubUnavailable,
                        f"{report}: download of shard {shard} failed",
                        endpoint,
                        resp.status_code,
                    )
                if resp.status_code >= 400:
                    raise self._err(
                        MalformedReport, f"{report}: download of shard {shard} failed", endpoint, resp.status_code
                    )
                return parse_shard(resp.iter_lines(), report=report, shard=shard, team=self.team, endpoint=endpoint)
        except httpx.TimeoutException:
            raise self._err(GitHubUnavailable, f"{report}: download of shard {shard} timed out", endpoint) from None
        except httpx.TransportError as exc:
            raise self._err(
                GitHubUnavailable,
                f"{report}: download of shard {shard} interrupted ({type(exc).__name__})",
                endpoint,
            ) from None

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
            params = None  # follow the Link URL as given
            if pages > 10_000:  # a broken Link chain must not loop forever
                raise self._err(MalformedReport, "seats: pagination does not end", path, 200)
        return out


def parse_shard(
    lines: Iterable[str],
    *,
    report: str,
    shard: int,
    team: str | None = None,
    endpoint: str | None = None,
) -> list[dict]:
    """Parse one report file: NDJSON (one object per line), or one JSON object / array (possibly
    pretty-printed). Blank lines are skipped; unknown keys are kept. Raises MalformedReport naming the
    report, shard index and line number (never the URL)."""
    out: list[dict] = []
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
                _extend(out, obj, lambda what, n=lineno: bad(n, what))
                return out
            raise bad(lineno, "invalid JSON (truncated or malformed)") from None
        _extend(out, obj, lambda what, n=lineno: bad(n, what))
    return out


def _extend(out: list[dict], obj: Any, bad: Callable[[str], MalformedReport]) -> None:
    if isinstance(obj, dict):
        out.append(obj)
    elif isinstance(obj, list):
        for item in obj:
            if not isinstance(item, dict):
                raise bad("array item is not a JSON object")
            out.append(item)
    else:
        raise bad("not a JSON object")


# ---------------------------------------------------------------- dagster resource


class GitHubResource(dg.ConfigurableResource):
    """Builds one GitHubClient per team sync. Tokens come from the app store, never from config."""

    base_url: str = PUBLIC_API_URL
    max_attempts: int = 4
    max_retry_seconds: float = 30.0
    timeout_seconds: float = 30.0
    max_concurrency_per_org: int = 4
    backoff_base: float = 0.5
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

    def client(self, *, team: str, org: str, token: str) -> GitHubClient:
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
        )
