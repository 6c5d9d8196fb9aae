"""`make bench`: every bench script at a small size (under 2 minutes in all), one JSON object per line.

    python -m bench.run_small

Each script runs in its own interpreter; its progress log goes to a temp file (path printed on failure).
The real sizes and their results are in docs/benchmarks.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT

SMALL = [
    ["bench.nightly", "--teams", "4", "--latency-ms", "50"],
    ["bench.backfill", "--days", "35"],
    ["bench.large_org", "--seats", "1000", "--shards", "2"],
    ["bench.definitions", "--teams", "50"],
]


def main() -> int:
    started = time.monotonic()
    failures = 0
    for cmd in SMALL:
        with tempfile.NamedTemporaryFile("w+", prefix="bench-", suffix=".log", delete=False) as err:
            t = time.monotonic()
            res = subprocess.run([sys.executable, "-W", "ignore", "-m", *cmd], cwd=ROOT, stdout=subprocess.PIPE,
                                 stderr=err, text=True, timeout=300)
        lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
        if res.returncode != 0 or not lines:
            failures += 1
            print(json.dumps({"bench": cmd[0], "args": cmd[1:], "error": f"exit {res.returncode}",
                              "log": err.name, "log_tail": Path(err.name).read_text()[-1500:]}), flush=True)
            continue
        obj = json.loads(lines[-1])
        obj["command"] = "python -m " + " ".join(cmd)
        obj["script_wall_s"] = round(time.monotonic() - t, 1)
        print(json.dumps(obj), flush=True)
        Path(err.name).unlink(missing_ok=True)
    print(json.dumps({"bench": "run_small", "total_s": round(time.monotonic() - started, 1),
                      "failures": failures}), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
