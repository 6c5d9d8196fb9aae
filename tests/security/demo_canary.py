"""Run `python -m copilot_flow.demo --no-serve`, recording every download-link signature the GitHub simulator
issues (one per line in the file named by SIG_LOG) so the test can look for them afterwards."""

from __future__ import annotations

import os
import sys

from simulators import github as github_sim

_sign = github_sim.SimState.sign


def _recording_sign(self, opaque: str, st: int, se: int) -> str:
    sig = _sign(self, opaque, st, se)
    with open(os.environ["SIG_LOG"], "a", encoding="utf-8") as fh:
        fh.write(sig + "\n")
    return sig


github_sim.SimState.sign = _recording_sign

if __name__ == "__main__":
    from copilot_flow import demo

    sys.exit(demo.main(["--no-serve"]))
