"""Report files rendered ahead of time, as GitHub has them ready in blob storage before anyone asks.

``POST /_sim/prerender`` with ``{"days": ["YYYY-MM-DD", ...], "orgs": [...]}`` (orgs default to every configured
org) draws each org's 1-day reports for those days and its latest 28-day reports now, so that serving them
later costs the simulator only the sending: a benchmark on one machine then measures the pipeline, not the
stand-in for GitHub drawing synthetic data. The bytes and chunks are the ones drawn on request; links with
an envelope fault's corruption are always drawn on request. Changing an org (``/_sim/orgs/{org}``) or a reset
drops what was rendered for it.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from simulators.github.config import OrgConfig
from simulators.github.downloads import _stream_body, render_key, shard_count
from simulators.github.reports import LATEST_REPORTS, ONE_DAY_REPORTS, day_served, latest_window
from simulators.github.state import SimState

PARALLEL_FROM_ORGS = 20  # fewer orgs are drawn in this process (a helper costs ≈ 1 s to start)


def _metas(org: str, oc: OrgConfig, today: date, days: list[date]) -> list[dict[str, Any]]:
    """Every download link's payload the report routes would hand out for these days (and the latest window)."""
    if oc.seats == 0:
        return []
    out: list[dict[str, Any]] = []
    for report in ONE_DAY_REPORTS:
        n = shard_count(report, oc)
        out += [{"o": org, "r": report, "k": k, "n": n, "d": d.isoformat()}
                for d in days if day_served(today, oc, report, d) for k in range(n)]
    start, end = latest_window(today, oc)
    for report in LATEST_REPORTS:
        n = shard_count(report, oc)
        out += [{"o": org, "r": report, "k": k, "n": n, "sd": start.isoformat(), "ed": end.isoformat()}
                for k in range(n)]
    return out


def _render(jobs: list[tuple[str, OrgConfig]], today: date, days: list[date]) -> list[tuple[tuple, list[bytes]]]:
    return [(render_key(meta, oc), list(_stream_body(meta, oc)))
            for org, oc in jobs for meta in _metas(org, oc, today, days)]


def prerender(state: SimState, days: list[date], orgs: list[str] | None = None) -> dict[str, Any]:
    """Render the files; returns how many, their bytes and the CPU seconds it took (this process and its
    helpers). Many orgs are drawn by one helper process per core (spawned: the data is deterministic)."""
    cpu = time.process_time() + _children_cpu()
    with state.lock:
        names = [o.lower() for o in orgs] if orgs is not None else list(state.config.orgs)
    jobs: list[tuple[str, OrgConfig]] = []
    for org in names:
        oc = state.org(org)
        if oc is None:
            raise ValueError(f"unknown org {org!r} (configure it first, or start with auto_orgs)")
        jobs.append((org, oc))
    today = state.today()
    helpers = min(os.cpu_count() or 1, 4) if len(jobs) >= PARALLEL_FROM_ORGS else 1
    if helpers == 1:
        rendered = _render(jobs, today, days)
    else:
        batches = [jobs[i::helpers * 4] for i in range(helpers * 4)]
        with ProcessPoolExecutor(helpers, mp_context=multiprocessing.get_context("spawn")) as pool:
            rendered = [item for part in pool.map(_render, batches, [today] * len(batches),
                                                  [days] * len(batches)) for item in part]
    with state.lock:
        state.rendered.update(rendered)
    return {"orgs": len(names), "files": len(rendered), "bytes": sum(len(c) for _, ch in rendered for c in ch),
            "helpers": helpers, "cpu_s": round(time.process_time() + _children_cpu() - cpu, 2)}


def _children_cpu() -> float:
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    return child.ru_utime + child.ru_stime


async def admin_prerender(request: Request) -> Response:
    state: SimState = request.app.state.sim
    try:
        body = await request.json()
        days = [date.fromisoformat(d) for d in body.get("days", [])]
        orgs = body.get("orgs")
        if orgs is not None and not (isinstance(orgs, list) and all(isinstance(o, str) for o in orgs)):
            raise ValueError("orgs must be a list of org logins")
        result = await run_in_threadpool(prerender, state, days, orgs)
    except (ValueError, TypeError, AttributeError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(result)
