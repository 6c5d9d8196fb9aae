"""Fixtures for the security tests; the harness is shared with tests/reliability (rel_support.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dagster"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))

from rel_support import fast_tmp, flow, flow_any, sim  # noqa: F401
