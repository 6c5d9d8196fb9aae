"""Local Anthropic Messages API + Message Batches API simulator (tests, demo, benchmarks).

This module builds the app (``create_app``) and runs it (``main``, i.e. ``python -m simulators.anthropic``).
"""

from __future__ import annotations

import argparse

from starlette.applications import Starlette
from starlette.routing import Route

from simulators.anthropic.admin import sim_config, sim_faults, sim_requests, sim_reset
from simulators.anthropic.batches import batch_results, create_batch, retrieve_batch
from simulators.anthropic.messages import create_message
from simulators.anthropic.state import SimState


def create_app(*, batch_processing_seconds: float = 0.3) -> Starlette:
    routes = [
        Route("/v1/messages", create_message, methods=["POST"]),
        Route("/v1/messages/batches", create_batch, methods=["POST"]),
        Route("/v1/messages/batches/{batch_id}", retrieve_batch, methods=["GET"]),
        Route("/v1/messages/batches/{batch_id}/results", batch_results, methods=["GET"]),
        Route("/_sim/faults", sim_faults, methods=["POST", "DELETE"]),
        Route("/_sim/requests", sim_requests, methods=["GET"]),
        Route("/_sim/reset", sim_reset, methods=["POST"]),
        Route("/_sim/config", sim_config, methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.sim = SimState(batch_processing_seconds=batch_processing_seconds)
    return app


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m simulators.anthropic", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8788)
    parser.add_argument("--batch-processing-seconds", type=float, default=2.0)
    args = parser.parse_args(argv)
    uvicorn.run(create_app(batch_processing_seconds=args.batch_processing_seconds), host=args.host,
                port=args.port, log_level="warning")
    return 0
