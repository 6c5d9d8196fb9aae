"""The report routes: one day of a 1-day report and the latest 28-day reports (envelopes of signed download
links), not-ready days, and the retired legacy metrics API."""

from __future__ import annotations

from datetime import date, timedelta

from starlette.requests import Request
from starlette.responses import Response

from simulators import github_data as data
from simulators.github.config import OrgConfig
from simulators.github.downloads import _links
from simulators.github.responses import _error, _json
from simulators.github.rest import (
    _check_day,
    _Ctx,
    _envelope_fault,
    _no_content,
    _not_found,
    _report_access,
    _rest,
)
from simulators.github.state import SimState

ONE_DAY_REPORTS = ("organization-1-day", "users-1-day", "user-teams-1-day")
LATEST_REPORTS = ("organization-28-day", "users-28-day")


def _not_ready(ctx: _Ctx, report: str, day: str) -> Response:
    """A day GitHub has no report for (yet): 204 or 404 (GitHub's REST reference), per ``not_ready_status``."""
    mode = ctx.oc.not_ready_status
    status = data.not_ready_status(ctx.org, report, date.fromisoformat(day)) if mode == "mixed" else int(mode)
    if status == 404:
        return _error(404, "Not Found", ctx.rate, version=ctx.version)
    return _no_content(ctx)


def day_served(today: date, oc: OrgConfig, report: str, d: date) -> bool:
    """Whether a 1-day report exists for day ``d`` today (else 204/404): within the org's history and ready."""
    floor = date.fromisoformat(oc.history_start) if oc.history_start else today - timedelta(days=365)
    if report == "user-teams-1-day" and oc.user_teams_start:
        floor = max(floor, date.fromisoformat(oc.user_teams_start))
    return floor <= d <= today - timedelta(days=oc.ready_lag_days)


async def one_day_report(request: Request) -> Response:
    report = request.path_params["report"]
    if report not in ONE_DAY_REPORTS:
        if report in LATEST_REPORTS:
            return await _rest(request, report, None, _latest_needed)
        return await _rest(request, "unknown", None, _not_found)
    day_raw = request.query_params.get("day")

    async def handler(request: Request, state: SimState, ctx: _Ctx) -> Response:
        denied = _report_access(ctx)
        if denied is not None:
            return denied
        day, bad = _check_day(request)
        if bad is not None:
            return bad
        assert day is not None
        if not day_served(state.today(), ctx.oc, report, date.fromisoformat(day)):
            return _not_ready(ctx, report, day)
        if ctx.oc.seats == 0:  # nobody holds a seat: nothing to report that day
            return _no_content(ctx)
        resp, corruption = _envelope_fault(state, ctx, report, day)
        if resp is not None:
            return resp
        links = _links(request, state, ctx, report, {"d": day}, corruption)
        return _json({"download_links": links, "report_day": day}, 200, ctx.rate, ctx.version)

    return await _rest(request, report, day_raw, handler)


async def _latest_needed(request: Request, state: SimState, ctx: _Ctx) -> Response:
    denied = _report_access(ctx)
    if denied is not None:
        return denied
    return _error(404, "Not Found", ctx.rate, version=ctx.version)


def latest_window(today: date, oc: OrgConfig) -> tuple[date, date]:
    """First and last day of the latest 28-day reports an org is served today."""
    end = today - timedelta(days=max(oc.ready_lag_days, 1))
    start = end - timedelta(days=27)
    if oc.history_start:
        start = max(start, date.fromisoformat(oc.history_start))
    return start, end


async def latest_report(request: Request) -> Response:
    report = request.path_params["report"]
    if report not in LATEST_REPORTS:
        return await _rest(request, "unknown", None, _not_found)

    async def handler(request: Request, state: SimState, ctx: _Ctx) -> Response:
        denied = _report_access(ctx)
        if denied is not None:
            return denied
        start, end = latest_window(state.today(), ctx.oc)
        resp, corruption = _envelope_fault(state, ctx, report, None)
        if resp is not None:
            return resp
        payload = {"sd": start.isoformat(), "ed": end.isoformat()}
        links = _links(request, state, ctx, report, payload, corruption)
        body = {"download_links": links, "report_start_day": start.isoformat(), "report_end_day": end.isoformat()}
        return _json(body, 200, ctx.rate, ctx.version)

    return await _rest(request, report, None, handler)


async def legacy_metrics(request: Request) -> Response:
    return await _rest(request, "legacy_metrics", None, _not_found)
