"""A team's fetched team-days written together by the sync engine (copilot_assets/sync.py), with each bad
day isolated so it fails alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from resources.store import Store

if TYPE_CHECKING:
    from copilot_assets.sync import DayResult


class PendingWrites:
    """A team's fetched team-days of one step, written together (``Store.replace_team_days``: one DELETE and
    one INSERT — a COPY on PostgreSQL — per table for all of them, not per day) once the team is done or
    ``MAX_ROWS`` rows and raw records are held (a 10,000-seat org's day alone is ≈ 7,000). If the batch
    fails, each day is written on its own, so a bad day fails alone and the others are kept (each team-day is
    materialized or failed on its own)."""

    MAX_ROWS = 20_000

    def __init__(self, store: Store, team_id: int, run_id: str, on_done: Callable[[DayResult], None]) -> None:
        self.store, self.team_id, self.run_id, self.on_done = store, team_id, run_id, on_done
        self.results: list[DayResult] = []
        self.size = 0

    def add(self, result: DayResult) -> None:
        assert result.write is not None
        self.results.append(result)
        self.size += result.write.size
        if self.size >= self.MAX_ROWS:
            self.flush()

    def flush(self) -> None:
        results, self.results, self.size = self.results, [], 0
        if not results:
            return
        try:
            self._write(results)
        except Exception as exc:
            if len(results) == 1:
                self._failed(results[0], exc)
            else:
                for r in results:  # isolate the bad day: the others are written
                    try:
                        self._write([r])
                    except Exception as one:
                        self._failed(r, one)
        for r in results:
            r.write = None  # the rows are not held past the write
            self.on_done(r)

    def _write(self, results: list[DayResult]) -> None:
        self.store.replace_team_days(self.team_id, [r.write for r in results if r.write is not None],
                                     run_id=self.run_id)

    @staticmethod
    def _failed(r: DayResult, exc: Exception) -> None:
        r.ok, r.rows, r.error = False, {}, exc


__all__ = ["PendingWrites"]
