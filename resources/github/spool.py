"""``DaySpool``: a downloaded per-user 28-day report, kept per day and shard: parsed records in memory up to a
budget, raw lines in temp files past it."""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import date
from typing import IO

from resources import jsonio
from resources.github.reports import parse_day

_SPOOL_OPEN_FILES = 8  # per shard being downloaded (one file per day; reopened in append mode past this)
# Raw NDJSON bytes of kept lines a spool holds as parsed records before it spills to temp files. A nightly keeps
# 3 days of a 50-seat org (≈ 230 KB): all in memory, no temp file, each line parsed once. A 10,000-seat org's
# day is ≈ 20 MB: past the budget its lines go to files, so memory stays bounded as before.
MEMORY_BUDGET_BYTES = 2 * 1024 * 1024


class DaySpool:
    """A downloaded per-user 28-day report, kept per day and shard: the first ``memory_budget`` bytes of kept
    lines as the records already parsed, the rest as raw NDJSON lines in one temp file per day and shard
    (stdlib ``tempfile`` under a TemporaryDirectory, made on the first spill). ``records(day)`` yields that
    day's records shards in order (so the order is the one of the unsharded report): in a shard, those held in
    memory, then the file's lines parsed lazily. The records are the spool's own: read them, do not change them.

    Records without a valid ``day`` are counted in ``skipped_without_day``, not stored. With ``keep_days``,
    records of other days are counted in ``not_kept`` and never written (a nightly that needs 3 days of the 28
    writes those 3); an NDJSON line whose ``day`` names none of those days is not even parsed (``wants``).
    Close it (or use it as a context manager) to drop the records and remove the files."""

    def __init__(self, report: str, start_day: date | None, end_day: date | None, shards: int,
                 keep_days: Iterable[date] | None = None, memory_budget: int | None = None) -> None:
        self.report = report
        self.keep_days = frozenset(keep_days) if keep_days is not None else None
        # wants(): one regex search per line for a "day" key whose string starts with a kept day
        # ('"day": "2026-11-28…'). Not any string: each users-28-day record also carries "report_end_day",
        # the latest day, which a nightly always keeps — every line matched and was parsed.
        self._needles = None if self.keep_days is None else re.compile(
            r'"day"\s*:\s*"(?:' + "|".join(re.escape(d.isoformat()) for d in sorted(self.keep_days)) + ")"
            if self.keep_days else "(?!)").search
        self.start_day = start_day
        self.end_day = end_day
        self.shards = shards
        self.memory_budget = MEMORY_BUDGET_BYTES if memory_budget is None else memory_budget
        self._closed = False
        self._tmp: tempfile.TemporaryDirectory[str] | None = None  # made on the first spill
        self._lock = threading.Lock()
        self._held: dict[tuple[date, int], list[dict]] = {}  # parsed records within the budget
        self._held_bytes: dict[int, int] = {}  # per shard, raw bytes of what it holds
        self._on_disk: set[tuple[date, int]] = set()
        self._counts: dict[tuple[date, int], int] = {}
        self._skipped: dict[int, int] = {}
        self._not_kept: dict[int, int] = {}

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

    @property
    def not_kept(self) -> int:
        """Records of days outside ``keep_days`` (not written; most of them not parsed either)."""
        with self._lock:
            return sum(self._not_kept.values())

    @property
    def held_bytes(self) -> int:
        """Raw bytes of the kept lines held in memory as records (at most ``memory_budget``)."""
        with self._lock:
            return sum(self._held_bytes.values())

    @property
    def spilled(self) -> bool:
        """Whether any line went to a temp file (the budget was reached)."""
        with self._lock:
            return bool(self._on_disk)

    def records(self, day: date) -> Iterator[dict]:
        """This day's records: per shard, those held in memory, then the file's lines parsed one at a time."""
        self._check_open()
        with self._lock:
            shards = sorted(k for d, k in self._counts if d == day)
            parts = [(k, self._held.get((day, k), ()), (day, k) in self._on_disk) for k in shards]
        for k, held, on_disk in parts:
            yield from held
            if on_disk:
                with open(self._path(day, k), "rb") as fh:
                    for line in fh:
                        if line.strip():
                            yield jsonio.loads(line)

    # -- lifecycle
    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._held.clear()
            self._held_bytes.clear()
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
        if self._closed:
            raise ValueError("DaySpool is closed")

    @property
    def _dir(self) -> str | None:
        """The temp directory, once a line spilled (None before)."""
        return None if self._tmp is None else self._tmp.name

    def _spill_dir(self) -> str:
        with self._lock:
            if self._closed:
                raise ValueError("DaySpool is closed")
            if self._tmp is None:
                self._tmp = tempfile.TemporaryDirectory(prefix="copilot-spool-")
            return self._tmp.name

    def _path(self, day: date, shard: int) -> str:
        return os.path.join(self._spill_dir(), f"{day.isoformat()}.{shard:05d}.ndjson")

    def _discard_shard(self, shard: int) -> None:
        """Forget whatever an earlier (failed) attempt of this shard wrote."""
        suffix = f".{shard:05d}.ndjson"
        with self._lock:
            for key in [key for key in self._counts if key[1] == shard]:
                del self._counts[key]
            for key in [key for key in self._held if key[1] == shard]:
                del self._held[key]
            self._held_bytes.pop(shard, None)
            self._on_disk = {key for key in self._on_disk if key[1] != shard}
            self._skipped.pop(shard, None)
            self._not_kept.pop(shard, None)
            folder = self._dir
        if folder is not None:
            for name in os.listdir(folder):
                if name.endswith(suffix):
                    os.remove(os.path.join(folder, name))

    def _reserve(self, shard: int, n: int) -> bool:
        """Whether ``n`` more raw bytes of ``shard`` may be held in memory (taken from the budget if so)."""
        with self._lock:
            if sum(self._held_bytes.values()) + n > self.memory_budget:
                return False
            self._held_bytes[shard] = self._held_bytes.get(shard, 0) + n
            return True

    def wants(self, line: str) -> bool:
        """Whether an NDJSON line may hold a record of ``keep_days`` (a ``"day"`` key somewhere in it names one
        of those days): lines that do not are skipped unparsed (a record's day is its ``day`` key; a nested
        ``day`` key can only make a line parsed that need not be, never skip a kept one)."""
        return self._needles is None or self._needles(line) is not None

    def _write_shard(self, shard: int, items: Iterable[tuple[str, dict | None]]) -> None:
        self._check_open()
        self._discard_shard(shard)
        counts: dict[date, int] = {}
        skipped = not_kept = 0
        keep = self.keep_days
        held: dict[date, list[dict]] = {}
        spilled_days: set[date] = set()
        spilling = False  # once a line of this shard went to a file, the shard's later lines follow it (order)
        handles: OrderedDict[date, IO[bytes]] = OrderedDict()
        try:
            for raw, rec in items:
                if rec is None:  # a line wants() turned down, not parsed
                    not_kept += 1
                    continue
                day = parse_day(rec.get("day"))
                if day is None:
                    skipped += 1
                    continue
                if keep is not None and day not in keep:
                    not_kept += 1
                    continue
                counts[day] = counts.get(day, 0) + 1
                if not spilling:
                    if self._reserve(shard, len(raw) + 1):
                        held.setdefault(day, []).append(rec)
                        continue
                    spilling = True
                fh = handles.get(day)
                if fh is None:
                    if len(handles) >= _SPOOL_OPEN_FILES:
                        handles.popitem(last=False)[1].close()
                    fh = handles[day] = open(self._path(day, shard), "ab")  # closed in finally
                    spilled_days.add(day)
                else:
                    handles.move_to_end(day)
                fh.write(raw.encode("utf-8"))
                fh.write(b"\n")
        finally:
            for fh in handles.values():
                fh.close()
        with self._lock:
            for day, n in counts.items():
                self._counts[(day, shard)] = n
            for day, recs in held.items():
                self._held[(day, shard)] = recs
            self._on_disk.update((day, shard) for day in spilled_days)
            self._skipped[shard] = skipped
            self._not_kept[shard] = not_kept
