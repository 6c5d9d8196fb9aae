"""GitHub App authentication (GitHub's "Authenticating as a GitHub App installation"): a JWT signed RS256
with the App's private key (``iat`` 60 s in the past, ``exp`` 9 minutes ahead, ``iss`` the App id) is
exchanged for an installation token (``POST /app/installations/{id}/access_tokens`` → ``{token, expires_at,
permissions}``). The installation token is cached in this process's memory per (API origin, App,
installation) until ``REFRESH_MARGIN_SECONDS`` before it expires — never stored, never logged — and
refreshed once when the API answers 401 with it.

The JWT and the installation token go only to the API origin (the exchange is a request to ``base_url``
itself, redirects are not followed). Typed errors: the exchange answering 404 (the App is not installed on
that installation any more) or 403 (a suspended installation) is a ``TokenRevoked`` with reason
``app_uninstalled``; a 401 (GitHub rejects the JWT: wrong App id, a deleted or regenerated key) is a
``TokenRevoked`` with reason ``app_key_rejected``; rate limits and 5xx keep their usual types.

``StaticToken`` and ``InstallationAuth`` are the two ways a ``GitHubClient`` gets its bearer token.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from resources.github.classify import classify_error
from resources.github_errors import GitHubError, GitHubUnavailable, InvalidRequest, NotFound, RateLimited, TokenRevoked
from resources.secrets import Secret
from resources.statuses import REASON_APP_KEY_REJECTED, REASON_APP_UNINSTALLED
from resources.validation import InvalidInput

JWT_BACKDATE_SECONDS = 60  # GitHub: set iat 60 s in the past against clock drift
JWT_LIFETIME_SECONDS = 540  # GitHub: exp at most 10 minutes after now
REFRESH_MARGIN_SECONDS = 300.0  # a cached installation token is replaced 5 minutes before it expires
API_VERSION = "2026-03-10"


@dataclass(frozen=True)
class AppCredential:
    """A team's GitHub App credential: the App, its installation on the team's org, the App's private key."""

    app_id: int
    installation_id: int
    private_key: Secret = field(repr=False)


def load_private_key(pem: str) -> Secret:
    """A GitHub App private key (PEM, RSA) as a ``Secret``; InvalidInput (never echoing the key) otherwise."""
    text = (pem or "").strip()
    if not text:
        raise InvalidInput("the GitHub App private key is empty")
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError):
        raise InvalidInput("the GitHub App private key is not an unencrypted PEM private key (download it from the "
                           "App's settings: Private keys → Generate a private key)") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InvalidInput("the GitHub App private key must be an RSA key (GitHub Apps sign with RS256)")
    return Secret(text + "\n")


def app_jwt(app_id: int, private_key: Secret, now: float) -> str:
    """The App's JWT (RS256): ``iat`` = now − 60 s, ``exp`` = now + 9 min, ``iss`` = the App id."""
    claims = {"iat": int(now) - JWT_BACKDATE_SECONDS, "exp": int(now) + JWT_LIFETIME_SECONDS, "iss": str(app_id)}
    try:
        return jwt.encode(claims, private_key.reveal(), algorithm="RS256")
    except (ValueError, TypeError, jwt.PyJWTError):
        raise InvalidInput(f"GitHub App {app_id}: the stored private key cannot sign a JWT") from None


def _expires_at(value: Any) -> float:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ValueError(f"expires_at {value!r} is not an ISO timestamp") from None


@dataclass
class _Cached:
    token: Secret = field(repr=False)
    expires_at: float
    permissions: dict[str, str]


class InstallationTokens:
    """Installation tokens of GitHub Apps, in memory, per (API origin, App id, installation id).

    ``clock`` (epoch seconds) decides both the JWT's times and when a cached token is due; tests inject a
    fake one. ``exchanges`` counts the token exchanges made (tests, benchmarks)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        refresh_margin_seconds: float = REFRESH_MARGIN_SECONDS,
        timeout_seconds: float = 30.0,
        user_agent: str = "copilot-data-flow",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._clock = clock
        self.refresh_margin_seconds = float(refresh_margin_seconds)
        self.timeout_seconds = float(timeout_seconds)
        self.user_agent = user_agent
        self._transport = transport
        self._cache: dict[tuple[str, int, int], _Cached] = {}
        self._locks: dict[tuple[str, int, int], threading.Lock] = {}
        self._lock = threading.Lock()
        self.exchanges = 0

    def __repr__(self) -> str:
        return f"InstallationTokens(cached={len(self._cache)}, exchanges={self.exchanges})"

    @staticmethod
    def _key(base_url: str, app: AppCredential) -> tuple[str, int, int]:
        return base_url.rstrip("/"), int(app.app_id), int(app.installation_id)

    def _key_lock(self, key: tuple[str, int, int]) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(key, threading.Lock())

    def token(self, base_url: str, app: AppCredential, *, team: str | None = None) -> Secret:
        """The installation token: the cached one while it has more than the margin left, else a new one."""
        key = self._key(base_url, app)
        with self._key_lock(key):
            cached = self._cache.get(key)
            if cached is not None and self._clock() < cached.expires_at - self.refresh_margin_seconds:
                return cached.token
            fresh = self._exchange(base_url, app, team)
            self._cache[key] = fresh
            return fresh.token

    def invalidate(self, base_url: str, app: AppCredential, stale: str) -> None:
        """Forget the cached token when it is still ``stale`` (the one GitHub just answered 401 to)."""
        key = self._key(base_url, app)
        with self._key_lock(key):
            cached = self._cache.get(key)
            if cached is not None and cached.token.reveal() == stale:
                del self._cache[key]

    def permissions(self, base_url: str, app: AppCredential) -> dict[str, str]:
        """The permissions GitHub granted the cached installation token ({} when none is cached)."""
        cached = self._cache.get(self._key(base_url, app))
        return dict(cached.permissions) if cached is not None else {}

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    # -- HTTP
    def _request(self, method: str, base_url: str, path: str, app_id: int, private_key: Secret,
                 team: str | None) -> httpx.Response:
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": self.user_agent,
            "Authorization": f"Bearer {app_jwt(app_id, private_key, self._clock())}",
        }
        from resources.github.transport import shared_ssl_context

        try:
            with httpx.Client(base_url=base_url.rstrip("/"), timeout=self.timeout_seconds, follow_redirects=False,
                              transport=self._transport, verify=shared_ssl_context()) as http:
                return http.request(method, path, headers=headers)
        except httpx.TimeoutException:
            raise GitHubUnavailable("GitHub App request timed out", team=team, endpoint=path) from None
        except httpx.TransportError as exc:
            raise GitHubUnavailable(f"GitHub App request failed ({type(exc).__name__})", team=team,
                                    endpoint=path) from None

    @staticmethod
    def _body(resp: httpx.Response) -> dict | None:
        try:
            parsed = resp.json()
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None

    def _exchange(self, base_url: str, app: AppCredential, team: str | None) -> _Cached:
        path = f"/app/installations/{int(app.installation_id)}/access_tokens"
        resp = self._request("POST", base_url, path, app.app_id, app.private_key, team)
        with self._lock:
            self.exchanges += 1
        body = self._body(resp)
        if resp.status_code in (200, 201) and body is not None:
            token, expires = body.get("token"), body.get("expires_at")
            try:
                if not isinstance(token, str) or not token:
                    raise ValueError("no token")
                expires_at = _expires_at(expires)
            except ValueError:
                raise InvalidRequest("GitHub App: the installation token answer has no token or expires_at",
                                     http_status=resp.status_code, team=team, endpoint=path) from None
            perms = body.get("permissions") if isinstance(body.get("permissions"), dict) else {}
            return _Cached(Secret(token), expires_at, {str(k): str(v) for k, v in perms.items()})
        raise self._error(resp, body, app, team, path, "installation token")

    def _error(self, resp: httpx.Response, body: dict | None, app: AppCredential | None, team: str | None,
               path: str, what: str) -> GitHubError:
        err = classify_error(resp.status_code, body, resp.headers, team=team, endpoint=path)
        if isinstance(err, RateLimited | GitHubUnavailable):
            return err
        who = f"GitHub App {app.app_id}, installation {app.installation_id}" if app else "GitHub App"
        if resp.status_code == 401:
            return TokenRevoked(f"{who}: GitHub rejected the App's JWT for the {what} ({err.message}): wrong App "
                                "id, or the private key was deleted or regenerated", reason=REASON_APP_KEY_REJECTED,
                                http_status=401, team=team, endpoint=path)
        if resp.status_code in (403, 404) and app is not None:
            return TokenRevoked(f"{who}: GitHub answered {resp.status_code} for the {what} ({err.message}): the "
                                "App is no longer installed on the organization, or the installation is suspended",
                                reason=REASON_APP_UNINSTALLED, http_status=resp.status_code, team=team, endpoint=path)
        return err

    def find_installation(self, base_url: str, app_id: int, private_key: Secret, org: str, *,
                          team: str | None = None) -> int:
        """The id of the App's installation on ``org`` (``GET /orgs/{org}/installation``, as the App).

        Raises NotFound when the App is not installed on the org, TokenRevoked (``app_key_rejected``) when
        GitHub rejects the JWT."""
        path = f"/orgs/{org}/installation"
        resp = self._request("GET", base_url, path, app_id, private_key, team)
        body = self._body(resp)
        if resp.status_code == 200 and body is not None and isinstance(body.get("id"), int):
            return int(body["id"])
        if resp.status_code == 404:
            raise NotFound(f"GitHub App {app_id} is not installed on the organization {org!r}",
                           http_status=404, team=team, endpoint=path)
        raise self._error(resp, body, None, team, path, "installation lookup")


# the process's installation tokens (a Dagster run or the daemon each keep their own, in memory)
INSTALLATION_TOKENS = InstallationTokens()


class TokenSource(Protocol):
    """Where a GitHubClient gets the bearer token it sends to the API origin."""

    kind: str

    def bearer(self) -> str: ...

    def refresh(self, stale: str) -> bool: ...

    def revoked(self, err: TokenRevoked) -> TokenRevoked: ...


class StaticToken:
    """A personal access token (or OAuth token): nothing to refresh; a 401 is ``bad_credentials``."""

    kind = "token"

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("a GitHub client needs a token or a GitHub App credential")
        self._token = token

    def __repr__(self) -> str:
        return "StaticToken(<hidden>)"

    def bearer(self) -> str:
        return self._token

    def refresh(self, stale: str) -> bool:
        return False

    def revoked(self, err: TokenRevoked) -> TokenRevoked:
        return err


class InstallationAuth:
    """A GitHub App installation: the bearer is the cached installation token; a 401 drops it and the
    request is tried once more with a new one; a 401 after that is the App's (``app_uninstalled``)."""

    kind = "github_app"

    def __init__(self, app: AppCredential, base_url: str, *, team: str | None = None,
                 tokens: InstallationTokens | None = None) -> None:
        self.app = app
        self._base_url = base_url
        self._team = team
        self._tokens = tokens or INSTALLATION_TOKENS

    def __repr__(self) -> str:
        return f"InstallationAuth(app_id={self.app.app_id}, installation_id={self.app.installation_id})"

    def bearer(self) -> str:
        return self._tokens.token(self._base_url, self.app, team=self._team).reveal()

    def refresh(self, stale: str) -> bool:
        self._tokens.invalidate(self._base_url, self.app, stale)
        return True

    def revoked(self, err: TokenRevoked) -> TokenRevoked:
        if err.reason is None:
            err.reason = REASON_APP_UNINSTALLED
            err.message = (f"{err.message} (GitHub App {self.app.app_id}, installation {self.app.installation_id}: "
                           "a new installation token was refused too; the App is uninstalled or suspended)")
        return err


__all__ = [
    "INSTALLATION_TOKENS",
    "REFRESH_MARGIN_SECONDS",
    "AppCredential",
    "InstallationAuth",
    "InstallationTokens",
    "StaticToken",
    "TokenSource",
    "app_jwt",
    "load_private_key",
]
