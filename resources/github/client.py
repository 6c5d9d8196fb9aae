"""``GitHubClient``: the Copilot reports (envelope → signed download links, fetched and parsed or spooled
per day), billing and seats (Link pagination) of one org with one token. Connections, redirects and retries
are its base class, ``GitHubTransport`` (resources/github/transport.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import httpx

from resources.github.classify import retry_after_with_source
from resources.github.reports import (
    LATEST_REPORTS,
    ONE_DAY_REPORTS,
    SPOOLED_REPORTS,
    NotReady,
    Report,
    ShardRef,
    iter_items,
    parse_day,
    parse_shard,
    split_lines,
)
from resources.github.spool import DaySpool
from resources.github.transport import MAX_REDIRECTS, GitHubTransport, T
from resources.github_errors import (
    DownloadLinkExpired,
    GitHubUnavailable,
    MalformedReport,
    NotFound,
    RateLimited,
)


class _LinkRejected(Exception):
    def __init__(self, status: int, shard: int) -> None:
        super().__init__(f"download link rejected (HTTP {status}) for shard {shard}")
        self.status = status
        self.shard = shard


def _parse_link_next(link: str | None) -> str | None:
    if not link:
        return None
    for part in link.split(","):
        m = re.match(r"\s*<([^>]+)>\s*;(.*)", part)
        if m and re.search(r'rel\s*=\s*"?next"?', m.group(2)):
            return m.group(1)
    return None


class GitHubClient(GitHubTransport):
    """One per team sync (one org, one token). Thread-safe enough for parallel shard downloads."""

    def __repr__(self) -> str:
        return f"GitHubClient(base_url={self.base_url!r}, org={self.org!r}, team={self.team!r})"

    __str__ = __repr__

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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

    def report_latest_28_by_day(self, report: str, keep_days: Iterable[date] | None = None) -> DaySpool | NotReady:
        """users-28-day/latest streamed into a DaySpool (records held in memory up to its budget, one temp
        file per day and shard past it): memory is bounded by the budget and one line, not by the report.
        Only the records of ``keep_days`` are kept (all days when None). The caller closes the spool
        (context manager)."""
        if report not in SPOOLED_REPORTS:
            raise ValueError(f"report must be one of {SPOOLED_REPORTS}, got {report!r}")
        path = self._org_path(f"metrics/reports/{report}/latest")
        keep = frozenset(keep_days) if keep_days is not None else None

        def collect(report: str, env: dict, links: list[str], endpoint: str) -> DaySpool:
            return self._collect_spool(report, env, links, endpoint, keep)

        got = self._fetch(report, path, None, None, collect)
        return got if isinstance(got, NotReady) else got[2]

    @staticmethod
    def _report(report: str, env: dict, links: list[str], records: list[dict]) -> Report:
        return Report(
            report=report,
            day=parse_day(env.get("report_day")),
            start_day=parse_day(env.get("report_start_day")),
            end_day=parse_day(env.get("report_end_day")),
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
                    continue  # links expired/rejected: fetch a fresh envelope once (decision 9, docs/architecture.md)
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

    def _collect_spool(self, report: str, env: dict, links: list[str], endpoint: str,
                       keep_days: frozenset[date] | None = None) -> DaySpool:
        spool = DaySpool(
            report, parse_day(env.get("report_start_day")), parse_day(env.get("report_end_day")), len(links),
            keep_days=keep_days,
        )

        def consume(shard: int, lines: Iterator[str]) -> None:
            # a retried shard starts over: _write_shard discards what the failed attempt wrote
            spool._write_shard(shard, iter_items(lines, ShardRef(report, shard, self.team, endpoint), spool.wants))

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
                    wait, source = retry_after_with_source(resp.headers)
                    raise RateLimited(
                        f"{failed} rate limited", retry_after=wait, retry_after_source=source,
                        http_status=429, team=self.team, endpoint=endpoint,
                    )
                if resp.status_code >= 500:
                    raise self._err(GitHubUnavailable, f"{failed} failed", endpoint, resp.status_code)
                if resp.status_code >= 300:
                    raise self._err(MalformedReport, f"{failed} failed", endpoint, resp.status_code)
                return consume(shard, split_lines(resp.iter_bytes()))
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
