"""GitHub's answers: JSON with its headers, error bodies, rate-limit headers, the responses of fault modes,
and redirects to the alias paths the simulator also serves."""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from simulators.github.config import Fault
from simulators.github.state import SimState

API_VERSIONS = ("2022-11-28", "2026-03-10")
DEFAULT_API_VERSION = "2022-11-28"
DOCS = "https://docs.github.com/rest/copilot/copilot-usage-metrics"

MSG_POLICY = "The 'Copilot usage metrics' policy must be enabled to use this API"
# legacy metrics API's 422 when its policy was off (GitHub's legacy metrics API docs)
MSG_LEGACY_POLICY = "Copilot Usage Metrics API setting is disabled at the organization or enterprise level."
MSG_NO_SUBSCRIPTION = "Copilot Business is not enabled for this organization."
MSG_PERMISSIONS = "Insufficient permissions. This action requires admin, or relevant organization role access."
MSG_SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID."
)
MSG_PRIMARY = "API rate limit exceeded for user ID 1. If you reach out to GitHub Support, include the request ID."


def _rate_headers(state: SimState, org: str | None, remaining: int | None = None) -> dict[str, str]:
    used = state.counts.get(org or "", 0)
    rem = max(0, 5000 - used) if remaining is None else remaining
    reset = int(time.time()) // 3600 * 3600 + 3600
    return {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": str(rem),
        "x-ratelimit-used": str(5000 - rem),
        "x-ratelimit-reset": str(reset),
        "x-ratelimit-resource": "core",
    }


def _json(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None, version: str = DEFAULT_API_VERSION
) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    h = {"x-github-api-version-selected": version, "x-github-media-type": "github.v3; format=json"}
    h.update(headers or {})
    return Response(body, status_code=status, headers=h, media_type="application/json; charset=utf-8")


def _error(status: int, message: str, headers: dict[str, str] | None = None, **kw: Any) -> Response:
    return _json({"message": message, "documentation_url": DOCS, "status": str(status)}, status, headers, **kw)


def _fault_response(f: Fault, rate: dict[str, str], version: str) -> Response | None:
    m = f.mode
    if m == "401":
        return _error(401, "Bad credentials", rate, version=version)
    if m == "403_policy":
        return _error(403, MSG_POLICY, rate, version=version)
    if m == "403_permissions":
        return _error(403, MSG_PERMISSIONS, rate, version=version)
    if m == "404":
        return _error(404, "Not Found", rate, version=version)
    if m == "422":
        msg = "There is a problem with your account's associated payment method"
        return _error(422, msg, rate, version=version)
    if m == "422_policy":
        return _error(422, MSG_LEGACY_POLICY, rate, version=version)
    if m == "429":  # primary limit: remaining 0, reset and retry-after headers
        ra = 1 if f.retry_after is None else f.retry_after
        h = {**rate, "x-ratelimit-remaining": "0", "x-ratelimit-used": "5000", "retry-after": str(ra)}
        return _error(429, MSG_PRIMARY, h, version=version)
    if m == "secondary_limit":  # GitHub may or may not send retry-after (GitHub's rate-limit docs); default: none
        h = dict(rate)
        if f.retry_after is not None:
            h["retry-after"] = str(f.retry_after)
        return _error(f.status or 403, MSG_SECONDARY, h, version=version)
    if m in ("500", "502", "503"):
        msgs = {"500": "Server Error", "502": "Bad Gateway", "503": "Service Unavailable"}
        return _error(int(m), msgs[m], rate, version=version)
    return None


def _other_host(netloc: str) -> str:
    """127.0.0.1 ↔ localhost, same port: another origin served by the same simulator."""
    host, sep, port = netloc.rpartition(":") if netloc.count(":") == 1 else (netloc, "", "")
    other = "localhost" if host == "127.0.0.1" else "127.0.0.1"
    return f"{other}{sep}{port}"


def _redirect(request: Request, f: Fault, alias_path: str) -> Response:
    """The same request under an alias path the simulator also serves (and never redirects: no loop):
    "redirect" on the same origin, "redirect_other_host" on another origin."""
    target = request.url.replace(path=alias_path)
    if f.mode == "redirect":
        return Response(status_code=f.status or 301, headers={"location": str(target)})
    target = target.replace(netloc=_other_host(request.url.netloc))
    return Response(status_code=f.status or 307, headers={"location": str(target)})


def _alias_path(path: str) -> str | None:
    """/orgs/{org}/... → /organizations/{org}/... ; None when the request is already on the alias."""
    if path.startswith("/orgs/"):
        return "/organizations/" + path[len("/orgs/") :]
    return None
