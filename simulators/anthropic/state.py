"""The simulator's state: fault modes and ``Fault``, message batches, the request log and the prompt cache,
and ``SimError`` (an API error as the real API shapes it)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.responses import JSONResponse

FAULT_MODES = ("overloaded", "429", "500", "invalid_json", "refusal", "ungrounded", "wrong_schema", "expired")
HTTP_FAULTS = {"overloaded": (529, "overloaded_error", "Overloaded"),
               "429": (429, "rate_limit_error", "Number of request tokens has exceeded your rate limit."),
               "500": (500, "api_error", "Internal server error")}


class SimError(Exception):
    def __init__(self, status: int, etype: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.etype, self.message, self.headers = status, etype, message, headers or {}

    def body(self) -> dict[str, Any]:
        return {"type": "error", "error": {"type": self.etype, "message": self.message},
                "request_id": f"req_sim_{uuid.uuid4().hex[:16]}"}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


@dataclass
class Fault:
    mode: str
    times: int = 1
    retry_after: float = 1.0


@dataclass
class Batch:
    id: str
    created_at: datetime
    ready_at: float
    results: list[dict[str, Any]]
    counts: dict[str, int]


@dataclass
class SimState:
    batch_processing_seconds: float = 0.3
    faults: list[Fault] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    cache: set[str] = field(default_factory=set)
    batches: dict[str, Batch] = field(default_factory=dict)

    def take_fault(self) -> Fault | None:
        while self.faults:
            fault = self.faults[0]
            if fault.times == 0:
                self.faults.pop(0)
                continue
            if fault.times > 0:
                fault.times -= 1
            return fault
        return None
