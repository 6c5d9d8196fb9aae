"""Fixtures for the reliability tests (crash, concurrency, fault storms, PostgreSQL connection loss).

They reuse the Dagster harness of tests/dagster (flow_support: a real instance, the GitHub simulator over
HTTP, the app store on SQLite or PostgreSQL) and add a module-scoped simulator of their own.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dagster"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from rel_support import fast_tmp, flow, flow_any, sim  # noqa: F401
