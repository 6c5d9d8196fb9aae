"""Webhook delivery of alerts (the "what to say and when" is ``copilot_assets/alerts.py``).

Two formats: ``slack`` posts Slack's incoming-webhook JSON ``{"text": …}``; ``generic`` posts the alert as a
JSON object and signs the exact body bytes with HMAC-SHA256 under the target's secret, in
``X-CopilotFlow-Signature: sha256=<hex>`` (the receiver recomputes it over the raw body; ``verify_signature``
is the reference). A delivery is tried ``max_attempts`` times with exponential backoff and full jitter, all
within ``message_deadline_seconds``, and never raises: it returns a ``Delivery`` whose error names the HTTP
status or the exception type, never the URL (a Slack webhook URL is a secret). Redirects are not followed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import dagster as dg
import httpx
from pydantic import Field

from resources.secrets import Secret
from resources.validation import InvalidInput

SIGNATURE_HEADER = "X-CopilotFlow-Signature"
EVENT_HEADER = "X-CopilotFlow-Event"
FORMATS = ("slack", "generic")
USER_AGENT = "copilot-data-flow-alerts"


@dataclass(frozen=True)
class WebhookTarget:
    """Where alerts go: global (``team_id`` None) or one team's; the URL and signing secret decrypted."""

    id: int
    team_id: int | None
    format: str
    url: Secret = field(repr=False)
    secret: Secret | None = field(default=None, repr=False)

    def describe(self) -> str:
        """Safe to print: the scheme and host of the URL, never its path (a Slack URL's path is the secret)."""
        return url_host(self.url.reveal())


@dataclass(frozen=True)
class Delivery:
    """How a delivery went: accepted or not, after how many attempts, the last HTTP status, and the error
    (an HTTP status or an exception type: never the URL)."""

    ok: bool
    attempts: int
    status: int | None = None
    error: str | None = None


def url_host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}/…"


def validate_url(url: str) -> Secret:
    """A webhook URL (http or https, with a host) as a ``Secret``; InvalidInput naming only what is wrong."""
    text = (url or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("the webhook URL must be an http(s) URL with a host")
    if any(c.isspace() for c in text):
        raise InvalidInput("the webhook URL contains whitespace")
    return Secret(text)


def sign(secret: str, body: bytes) -> str:
    """The signature header value of ``body``: ``sha256=`` + hex HMAC-SHA256 under ``secret``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """What a receiver checks: the header matches the HMAC of the raw body (constant-time compare)."""
    return bool(header) and hmac.compare_digest(sign(secret, body), str(header))


def request_for(target: WebhookTarget, message: Mapping[str, Any]) -> tuple[bytes, dict[str, str]]:
    """The body and headers a target gets for a message (``text`` plus structured fields)."""
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if target.format == "slack":
        return json.dumps({"text": message["text"]}).encode(), headers
    body = json.dumps(dict(message), sort_keys=True, separators=(",", ":"), default=str).encode()
    if target.secret is None:  # the store refuses a generic target without one
        raise ValueError(f"alert target {target.id} (generic) has no signing secret")
    headers[SIGNATURE_HEADER] = sign(target.secret.reveal(), body)
    headers[EVENT_HEADER] = str(message.get("kind", "alert"))
    return body, headers


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


def deliver(
    target: WebhookTarget,
    message: Mapping[str, Any],
    *,
    timeout_seconds: float = 5.0,
    max_attempts: int = 3,
    backoff_base_seconds: float = 0.5,
    message_deadline_seconds: float = 15.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Delivery:
    """POST one message to one target with retries; never raises."""
    rng = rng or random.Random()
    try:
        body, headers = request_for(target, message)
    except (KeyError, ValueError, TypeError) as exc:
        return Delivery(ok=False, attempts=0, error=f"cannot build the message: {type(exc).__name__}")
    start = clock()
    attempt = 0
    status: int | None = None
    error: str | None = None
    with httpx.Client(timeout=timeout_seconds, follow_redirects=False, transport=transport) as http:
        while attempt < max(1, max_attempts):
            attempt += 1
            try:
                resp = http.post(target.url.reveal(), content=body, headers=headers)
                status = resp.status_code
                if 200 <= status < 300:
                    return Delivery(ok=True, attempts=attempt, status=status)
                error = f"HTTP {status}"
                if not _retryable(status):
                    break
            except httpx.HTTPError as exc:  # connection refused, timeout, …: the type only (str may hold the URL)
                status, error = None, type(exc).__name__
            wait = rng.uniform(0.0, backoff_base_seconds * 2 ** (attempt - 1))
            if attempt >= max_attempts or clock() - start + wait + timeout_seconds > message_deadline_seconds:
                break
            sleep(wait)
    return Delivery(ok=False, attempts=attempt, status=status, error=error)


class AlertsResource(dg.ConfigurableResource):
    """How alerts are delivered and how far back the alerts sensor looks; the targets are in the app store
    (``copilot-flow alerts add``)."""

    timeout_seconds: float = Field(default=5.0, description="Seconds one webhook request may take.")
    max_attempts: int = Field(default=3, description="Attempts per message and tick (exponential backoff).")
    backoff_base_seconds: float = Field(default=0.5, description="First backoff; doubles per attempt, jittered.")
    message_deadline_seconds: float = Field(default=10.0, description="Most seconds one message's attempts take.")
    # a Dagster sensor tick must end within 60 s: what is not delivered by then waits for the next tick
    tick_budget_seconds: float = Field(default=30.0, description="Most seconds one sensor tick spends delivering.")
    catch_up_hours: float = Field(default=24.0, description="How far back the alerts sensor's first tick looks.")
    give_up_after_hours: float = Field(default=24.0, description="Undelivered this long after it was raised, an "
                                       "alert is abandoned (logged as an error).")

    def deliver(self, target: WebhookTarget, message: Mapping[str, Any], *,
                sleep: Callable[[float], None] = time.sleep) -> Delivery:
        return deliver(target, message, timeout_seconds=self.timeout_seconds, max_attempts=self.max_attempts,
                       backoff_base_seconds=self.backoff_base_seconds,
                       message_deadline_seconds=self.message_deadline_seconds, sleep=sleep)


__all__ = [
    "EVENT_HEADER",
    "FORMATS",
    "SIGNATURE_HEADER",
    "AlertsResource",
    "Delivery",
    "WebhookTarget",
    "deliver",
    "request_for",
    "sign",
    "url_host",
    "validate_url",
    "verify_signature",
]
