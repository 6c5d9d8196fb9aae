"""A local webhook receiver for the alert tests: a Starlette app served by uvicorn on 127.0.0.1 that records
every POST (headers and raw body) and answers the statuses it is told to (200 by default)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from resources.webhooks import SIGNATURE_HEADER, verify_signature
from simulators.serve import ServerHandle, free_port, start_in_thread

HOOK_PATH = "/hooks/T0SECRETPATH/B0SECRETPATH"  # like a Slack URL: the path is the secret


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def signed_by(self, secret: str) -> bool:
        return verify_signature(secret, self.body, self.headers.get(SIGNATURE_HEADER.lower()))


@dataclass
class Receiver:
    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answered in order, then 200
    handle: ServerHandle | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{HOOK_PATH}"

    def start(self) -> Receiver:
        async def hook(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.received.append(Received(request.url.path, {k.lower(): v for k, v in request.headers.items()},
                                              body))
                status = self.statuses.pop(0) if self.statuses else 200
            return Response(b"ok" if status < 300 else b"no", status_code=status)

        app = Starlette(routes=[Route(HOOK_PATH, hook, methods=["POST"])])
        self.handle = start_in_thread(app, port=self.port)
        return self

    def stop(self) -> None:
        if self.handle is not None:
            self.handle.stop()
            self.handle = None

    def messages(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r.json() for r in self.received]
