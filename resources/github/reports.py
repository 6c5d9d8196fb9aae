"""What the reports API hands back: report names, ``Report`` (records in memory), ``NotReady`` (no report for
that day yet) and the streaming parser of one report file (``iter_shard`` / ``parse_shard``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from resources import jsonio
from resources.github_errors import MalformedReport

ORG_1_DAY = "organization-1-day"
ORG_28_DAY = "organization-28-day"
USERS_1_DAY = "users-1-day"
USERS_28_DAY = "users-28-day"
LATEST_REPORTS = (ORG_28_DAY, USERS_28_DAY)
# GitHub added the org endpoint user-teams-1-day on 2026-05-14 (GitHub's changelog; there is no 28-day variant);
# its floor (USER_TEAMS_AVAILABLE_FROM) is configuration: resources/github/resource.py.
USER_TEAMS_REPORT = "user-teams-1-day"
ONE_DAY_REPORTS = (ORG_1_DAY, USERS_1_DAY, USER_TEAMS_REPORT)
SPOOLED_REPORTS = (USERS_28_DAY,)
# the raw copy of a seat snapshot's two answers (copilot_raw_reports.report): /copilot/billing and every page of
# /copilot/billing/seats, so a snapshot can be re-derived (seats per plan, costs) without calling GitHub
BILLING_REPORT = "billing"
SEATS_REPORT = "seats"
NOT_READY_WHY = ("http_204", "http_404", "no_report_available", "empty_body")


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
    ("No report available") or an empty body. Not a failure (decision 11, docs/architecture.md); falsy, so
    ``if not report:`` covers it."""

    report: str
    day: date | None
    why: str

    def __post_init__(self) -> None:
        if self.why not in NOT_READY_WHY:
            raise ValueError(f"NotReady.why must be one of {NOT_READY_WHY}, got {self.why!r}")

    def __bool__(self) -> bool:
        return False


def parse_day(v: Any) -> date | None:
    if not isinstance(v, str):
        return None
    try:
        return date.fromisoformat(v[:10])
    except ValueError:
        return None


# ---------------------------------------------------------------- one report file (shard), streaming


@dataclass(frozen=True)
class ShardRef:
    """Which file is being parsed: named in every MalformedReport (never its URL)."""

    report: str
    shard: int
    team: str | None = None
    endpoint: str | None = None

    def malformed(self, line: int, what: str) -> MalformedReport:
        return MalformedReport(
            f"{self.report}: shard {self.shard} line {line}: {what}",
            http_status=200,
            team=self.team,
            endpoint=self.endpoint,
        )


def split_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """The lines of a streamed report file, as text: split on ``\n`` only and decoded as UTF-8 (invalid bytes
    replaced, as httpx's text decoding does). Not httpx's ``iter_lines``: that splits on every Unicode line
    boundary — a JSON string may hold a raw U+2028, which would cut a record in two — and costs a Python-level
    decode per network chunk and line (issue 20 profile). A line longer than a chunk (a one-line JSON array)
    is joined once, not copied per chunk."""
    tail: list[bytes] = []
    for chunk in chunks:
        if not chunk:
            continue
        cut = chunk.rfind(b"\n")
        if cut < 0:
            tail.append(chunk)
            continue
        if tail:
            tail.append(chunk[:cut])
            done = b"".join(tail)
            tail = []
        else:
            done = chunk[:cut]
        if cut + 1 < len(chunk):
            tail.append(chunk[cut + 1:])
        yield from done.decode("utf-8", "replace").split("\n")
    if tail:
        yield b"".join(tail).decode("utf-8", "replace")


def iter_items(lines: Iterable[str], where: ShardRef,
               wanted: Callable[[str], bool] | None = None) -> Iterator[tuple[str, dict | None]]:
    """(raw line, record) for each record of one report file, streaming. NDJSON lines are yielded as sent;
    a record out of a JSON array or a pretty-printed document is re-encoded compactly.

    ``wanted(line)``: once the file is known to be NDJSON (its first line was a whole JSON object), a later line
    that looks like one whole object (``{…}``) and that it returns False for is not parsed and comes out as
    (line, None) — a caller that needs only some days skips the others without parsing them. A line that does
    not look like an object (garbage, a truncated last line) is always parsed, so it fails as before."""
    it: Iterator[str] = iter(lines)
    lineno = 0
    first_content_line = None
    ndjson = False
    for raw in it:
        lineno += 1
        line = raw.strip()
        if not line:
            continue
        if first_content_line is None:
            first_content_line = lineno
        elif ndjson and wanted is not None and line[0] == "{" and line[-1] == "}" and not wanted(line):
            yield line, None
            continue
        try:
            obj = jsonio.loads(line)
        except ValueError:
            if lineno == first_content_line and line[:1] in "{[":
                # maybe one pretty-printed document: read the rest of the shard and parse it whole
                rest = "\n".join([line, *it]).rstrip()
                try:
                    obj = jsonio.loads(rest)
                except ValueError as exc:
                    n = lineno + rest.count("\n", 0, getattr(exc, "pos", 0))
                    raise where.malformed(n, "invalid JSON (truncated or malformed)") from None
                yield from _items(obj, None, lambda what, n=lineno: where.malformed(n, what))
                return
            raise where.malformed(lineno, "invalid JSON (truncated or malformed)") from None
        ndjson = ndjson or isinstance(obj, dict)
        yield from _items(obj, line, lambda what, n=lineno: where.malformed(n, what))


def _items(obj: Any, line: str | None, bad: Callable[[str], MalformedReport]) -> Iterator[tuple[str, dict]]:
    if isinstance(obj, dict):
        yield (line if line is not None else jsonio.dumps(obj)), obj
    elif isinstance(obj, list):
        for item in obj:
            if not isinstance(item, dict):
                raise bad("array item is not a JSON object")
            yield jsonio.dumps(item), item
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
    for _, obj in iter_items(lines, ShardRef(report, shard, team, endpoint)):
        if obj is not None:
            yield obj


def parse_shard(lines: Iterable[str], **where: Any) -> list[dict]:
    """``iter_shard`` as a list, with its keywords (report, shard, team, endpoint): a whole file in memory,
    for the small reports."""
    return list(iter_shard(lines, **where))
