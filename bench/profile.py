"""Sample a running block of this process with py-spy and say where its CPU goes, per team-day.

``sampled(path)`` attaches ``py-spy record`` to this process for the duration of a ``with`` block (every
thread, on-CPU samples only, 100 Hz); ``summarize(path, team_days)`` reads py-spy's raw output (one line per
distinct stack: ``frame;frame;… count``) and returns

- ``buckets``: CPU ms per team-day by what the time was spent on (the first rule in ``BUCKETS`` whose
  pattern occurs in a stack wins, so each sample is counted once),
- ``top_inclusive``: the functions most often on the stack (ms per team-day, any depth),
- ``top_self``: the functions most often at the top of the stack.

Used by ``python -m bench.one_run --profile FILE``; docs/benchmarks.md records its output before and after.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RATE_HZ = 100

# (bucket, pattern in a frame "func (file:line)") — first match, scanning rules in order, wins.
BUCKETS: list[tuple[str, str]] = [
    ("run creation / planned events", "create_run_for_job"),
    ("event log writes (Dagster events)", "store_event"),
    ("asset check evaluation", "asset_checks"),
    ("JSON parsing of reports", "json/decoder.py"),
    ("JSON parsing of reports", "resources/jsonio.py"),
    ("report spool (temp files)", "resources/github/spool.py"),
    ("report parsing (our code)", "parsing/"),
    ("app store writes (SQLAlchemy)", "resources/store/"),
    ("GitHub HTTP (httpx, TLS)", "httpx/"),
    ("Dagster step and event machinery", "dagster/"),
    ("SQLAlchemy (other)", "sqlalchemy/"),
]


def py_spy() -> str:
    exe = Path(sys.executable).with_name("py-spy")
    found = str(exe) if exe.exists() else shutil.which("py-spy")
    if not found:
        raise SystemExit("py-spy is not installed: `make install` puts it in .venv (dev extra)")
    return found


@contextmanager
def sampled(path: Path, pid: int | None = None) -> Iterator[None]:
    """py-spy samples process ``pid`` (default: this one) while the block runs, into ``path`` (raw format)."""
    import os
    import signal

    proc = subprocess.Popen([py_spy(), "record", "--pid", str(pid or os.getpid()), "--rate", str(RATE_HZ),
                             "--format", "raw", "--output", str(path), "--gil", "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)  # py-spy attaches
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        _, err = proc.communicate(timeout=60)
        if not path.exists():
            raise RuntimeError(f"py-spy wrote no profile: {err.decode(errors='replace')[-500:]}")


_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _frames(stack: str) -> list[str]:
    out = []
    for raw in stack.split(";"):
        m = _FRAME.match(raw)
        out.append(f"{m['func']} ({m['file']})" if m else raw)
    return out


def summarize(path: Path, team_days: int, top: int = 15) -> dict:
    stacks: list[tuple[list[str], int]] = []
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((_frames(stack), int(count)))
    total = sum(c for _, c in stacks)
    per_td = 1000.0 / RATE_HZ / max(team_days, 1)  # one sample = 10 ms of CPU

    buckets: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    self_: Counter[str] = Counter()
    for frames, count in stacks:
        joined = ";".join(frames)
        bucket = next((name for name, pat in BUCKETS if pat in joined), "other")
        buckets[bucket] += count
        for f in set(frames):
            inclusive[f] += count
        if frames:
            self_[frames[-1]] += count

    def ms(c: int) -> float:
        return round(c * per_td, 2)

    return {
        "samples": total,
        "cpu_ms_per_team_day": ms(total),
        "buckets_ms_per_team_day": {k: ms(v) for k, v in buckets.most_common()},
        "top_inclusive_ms_per_team_day": {k: ms(v) for k, v in inclusive.most_common(top)},
        "top_self_ms_per_team_day": {k: ms(v) for k, v in self_.most_common(top)},
    }
