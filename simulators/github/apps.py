"""GitHub Apps: the App's JWT (RS256, verified with the App's public key; ``iss`` the App id, ``iat``/``exp``
checked against the App clock: at most 10 minutes of lifetime, 60 s of drift), installation tokens
(``POST /app/installations/{id}/access_tokens`` → 201 ``{token, expires_at, permissions}``), the App's
installation on an org (``GET /orgs/{org}/installation``), and what an installation token may read on the
org endpoints (``installation_refusal``: expired or uninstalled → 401, a permission the installation was not
granted → 403 "Resource not accessible by integration" with ``X-Accepted-GitHub-Permissions``).

The request log keeps only a hash prefix of a JWT or token, as for every other request."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from simulators.github.config import ADMIN_PERMISSION, METRICS_PERMISSION, SEATS_PERMISSION
from simulators.github.responses import _error, _json
from simulators.github.state import IssuedToken, SimState, _bearer

JWT_MAX_LIFETIME = 600  # GitHub: exp no more than 10 minutes into the future
JWT_DRIFT = 60
MSG_JWT = "A JSON web token could not be decoded"
MSG_EXP = ("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the "
           "assertion expires")
MSG_IAT = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
MSG_NOT_ACCESSIBLE = "Resource not accessible by integration"
SEATS_KINDS = ("billing", "seats")


def new_app_key_pair() -> tuple[str, str]:
    """A simulated GitHub App's key pair, as GitHub makes one (RSA 2048): (private key PEM, public key PEM).
    The simulator is given the public key (``SimConfig.apps``); the App's owner keeps the private one."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def _app_of_jwt(state: SimState, request: Request) -> tuple[int | None, Response | None]:
    """The App id a request's JWT proves, or the 401 GitHub answers."""
    token = _bearer(request)
    if not token:
        return None, _error(401, "A JSON web token is required to access this endpoint.")
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
        app_id = str(claims.get("iss", ""))
        key = state.config.apps.get(app_id)
        if key is None:
            return None, _error(401, MSG_JWT)
        claims = jwt.decode(token, key, algorithms=["RS256"], options={
            "verify_exp": False, "verify_iat": False, "verify_nbf": False, "require": ["iat", "exp", "iss"]})
    except jwt.PyJWTError:
        return None, _error(401, MSG_JWT)
    now = state.now()
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int) or iat > now + JWT_DRIFT:
        return None, _error(401, MSG_IAT)
    if not isinstance(exp, int) or exp <= now or exp > now + JWT_MAX_LIFETIME + JWT_DRIFT or exp - iat > \
            JWT_MAX_LIFETIME + JWT_DRIFT:
        return None, _error(401, MSG_EXP)
    return int(app_id), None


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def access_tokens(request: Request) -> Response:
    """``POST /app/installations/{installation_id}/access_tokens``: an installation token for the App's own
    installation; 404 when the installation is not the App's or is uninstalled."""
    state: SimState = request.app.state.sim
    status = 500
    org: str | None = None
    try:
        app_id, refused = _app_of_jwt(state, request)
        if refused is not None:
            status = refused.status_code
            return refused
        try:
            installation_id = int(request.path_params["installation_id"])
        except ValueError:
            status = 404
            return _error(404, "Not Found")
        found = state.installation(installation_id)
        if found is None or found[1].app_id != app_id or not found[1].installed:
            status = 404
            return _error(404, "Not Found")
        org, inst = found
        token, issued = state.issue_token(org, inst)
        body = {"token": token, "expires_at": _iso(issued.expires_at), "permissions": issued.permissions,
                "repository_selection": "all"}
        status = 201
        return _json(body, 201)
    finally:
        state.log(request, org, "app_access_token", status)


async def org_installation(request: Request) -> Response:
    """``GET /orgs/{org}/installation``: the App's installation on the org (as the App, with its JWT)."""
    state: SimState = request.app.state.sim
    org = request.path_params["org"].lower()
    status = 500
    try:
        app_id, refused = _app_of_jwt(state, request)
        if refused is not None:
            status = refused.status_code
            return refused
        oc = state.config.orgs.get(org)
        inst = oc.app_installation if oc is not None else None
        if inst is None or inst.app_id != app_id or not inst.installed:
            status = 404
            return _error(404, "Not Found")
        status = 200
        return _json({"id": inst.installation_id, "app_id": inst.app_id, "target_type": "Organization",
                      "account": {"login": org, "type": "Organization"}, "permissions": dict(inst.permissions)})
    finally:
        state.log(request, org, "app_installation", status)


def _needed(kind: str) -> tuple[tuple[str, ...], str]:
    """The permissions that let a token read an endpoint kind (any of them), and GitHub's header for it."""
    if kind in SEATS_KINDS:
        return (SEATS_PERMISSION, ADMIN_PERMISSION), f"{SEATS_PERMISSION}=read; {ADMIN_PERMISSION}=read"
    return (METRICS_PERMISSION,), f"{METRICS_PERMISSION}=read"


def installation_refusal(state: SimState, org: str, issued: IssuedToken, kind: str,
                         rate: dict[str, str], version: str) -> Response | None:
    """What an org endpoint answers an installation token instead of serving it, or None to serve it."""
    found = state.installation(issued.installation_id)
    if found is None or not found[1].installed or state.now() >= issued.expires_at:
        return _error(401, "Bad credentials", version=version)
    if issued.org != org:  # another org's installation: GitHub hides what it cannot show
        return _error(404, "Not Found", rate, version=version)
    allowed, header = _needed(kind)
    if not any(issued.permissions.get(p) in ("read", "write") for p in allowed):
        return _error(403, MSG_NOT_ACCESSIBLE, {**rate, "x-accepted-github-permissions": header}, version=version)
    return None


async def admin_installation(request: Request) -> Response:
    """``POST /_sim/installations/{installation_id}`` {installed?, permissions?, expire_tokens?}: uninstall,
    change the granted permissions, expire the installation's tokens now."""
    state: SimState = request.app.state.sim
    try:
        body: dict[str, Any] = await request.json() or {}
        inst = state.update_installation(int(request.path_params["installation_id"]),
                                         installed=body.get("installed"), permissions=body.get("permissions"),
                                         expire_tokens=bool(body.get("expire_tokens")))
    except KeyError as exc:
        return JSONResponse({"error": str(exc)}, status_code=404)
    except (ValueError, TypeError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse({"installation_id": inst.installation_id, "app_id": inst.app_id, "installed": inst.installed,
                         "permissions": inst.permissions})


async def admin_apps(request: Request) -> Response:
    """``POST /_sim/apps/{app_id}`` {public_key}: register a GitHub App's public key (PEM)."""
    state: SimState = request.app.state.sim
    body = await request.json()
    key = body.get("public_key") if isinstance(body, dict) else None
    if not isinstance(key, str) or "PUBLIC KEY" not in key:
        return JSONResponse({"error": "public_key (PEM) is required"}, status_code=400)
    with state.lock:
        state.config.apps[str(request.path_params["app_id"])] = key
    return JSONResponse({"app_id": request.path_params["app_id"]})


async def admin_clock(request: Request) -> Response:
    """``POST /_sim/clock`` {advance_seconds}: move the App clock (JWT times, installation-token expiry)."""
    body = await request.json()
    offset = request.app.state.sim.advance_clock(float((body or {}).get("advance_seconds", 0)))
    return JSONResponse({"clock_offset_seconds": offset})
