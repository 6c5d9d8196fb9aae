"""Local GitHub Copilot REST simulator (reports API, billing, seats, signed download host, GitHub Apps).

This module builds the app (``create_app``: REST routes under ``/orgs`` and their ``/organizations`` alias,
the GitHub App routes, the download host, the admin routes) and runs it (``main``, i.e.
``python -m simulators.github``).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route

from simulators.github.admin import admin_org, admin_requests, admin_reset, admin_stats
from simulators.github.apps import access_tokens, admin_apps, admin_clock, admin_installation, org_installation
from simulators.github.billing import billing, seats
from simulators.github.config import SimConfig
from simulators.github.downloads import download
from simulators.github.prerender import admin_prerender
from simulators.github.reports import latest_report, legacy_metrics, one_day_report
from simulators.github.state import SimState


def create_app(config: SimConfig | dict | None = None) -> Starlette:
    rest = [
        ("/copilot/metrics/reports/{report}/latest", latest_report),
        ("/copilot/metrics/reports/{report}", one_day_report),
        ("/copilot/metrics", legacy_metrics),
        ("/team/{team}/copilot/metrics", legacy_metrics),
        ("/copilot/billing", billing),
        ("/copilot/billing/seats", seats),
    ]
    routes = [
        # /organizations/{org}/... is the alias "redirect" faults point at (same handlers)
        *(Route(prefix + "/{org}" + path, handler) for prefix in ("/orgs", "/organizations") for path, handler in rest),
        Route("/app/installations/{installation_id}/access_tokens", access_tokens, methods=["POST"]),
        Route("/orgs/{org}/installation", org_installation),
        Route("/_downloads/{opaque}", download),
        Route("/_dl/{opaque}", download),
        Route("/_sim/orgs/{org}", admin_org, methods=["POST"]),
        Route("/_sim/reset", admin_reset, methods=["POST"]),
        Route("/_sim/prerender", admin_prerender, methods=["POST"]),
        Route("/_sim/requests", admin_requests, methods=["GET", "DELETE"]),
        Route("/_sim/stats", admin_stats),
        Route("/_sim/apps/{app_id}", admin_apps, methods=["POST"]),
        Route("/_sim/installations/{installation_id}", admin_installation, methods=["POST"]),
        Route("/_sim/clock", admin_clock, methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.sim = SimState(config)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulators.github", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--config", help="JSON file with a SimConfig")
    parser.add_argument("--auto-orgs", action="store_true", help="accept any org with token sim-token-<org>")
    args = parser.parse_args(argv)
    cfg: dict[str, Any] = {}
    if args.config:
        with open(args.config, encoding="utf-8") as fh:
            cfg = json.load(fh)
    if args.auto_orgs:
        cfg["auto_orgs"] = True
    import uvicorn

    uvicorn.run(create_app(cfg), host=args.host, port=args.port, log_level="warning")
    return 0
