"""GitHub App credentials against the simulator over real HTTP: JWT → installation token, cached until shortly
before it expires (fake clock), refreshed once on a 401, typed errors for an uninstalled App, a rejected key
and a missing permission; the Authorization header only on the API origin; no secret in errors or reprs."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest
from app_support import APP_ID, INSTALLATION_ID, FakeClock, app_keypair, install_app, key_marker

from resources.github import (
    AppCredential,
    GitHubClient,
    InstallationAuth,
    InstallationTokens,
    app_jwt,
    load_private_key,
)
from resources.github_errors import CopilotAccessDenied, InvalidRequest, NotFound, TokenRevoked
from resources.secrets import Secret
from resources.validation import InvalidInput
from simulators.github import token_prefix
from tests.github.conftest import DAY

pytestmark = pytest.mark.slow


@pytest.fixture
def app(sim) -> AppCredential:
    _, state = sim
    return install_app(state, "acme", seats=50)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def tokens(clock) -> InstallationTokens:
    return InstallationTokens(clock=clock)


@pytest.fixture
def app_client(sim, app, tokens, make_client):
    url, _ = sim

    def make(credential: AppCredential | None = None, **kw: Any) -> GitHubClient:
        auth = InstallationAuth(credential or app, url, team="team-acme", tokens=tokens)
        return make_client(token=None, auth=auth, **kw)

    return make


def _log(state, kind: str | None = None) -> list[dict[str, Any]]:
    return [r for r in state.request_log() if kind is None or r["endpoint_kind"] == kind]


def test_jwt_is_rs256_with_iat_exp_iss_and_verifies_with_the_public_key():
    private, public = app_keypair()
    token = app_jwt(APP_ID, Secret(private), 1_800_000_000.0)
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = jwt.decode(token, public, algorithms=["RS256"], options={"verify_exp": False, "verify_iat": False})
    assert claims == {"iat": 1_800_000_000 - 60, "exp": 1_800_000_000 + 540, "iss": str(APP_ID)}
    _, other_public = app_keypair(1)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, other_public, algorithms=["RS256"], options={"verify_exp": False})


def test_load_private_key_refuses_what_is_not_an_rsa_pem_and_never_echoes_it():
    private, _ = app_keypair()
    assert load_private_key(private).reveal().strip() == private.strip()
    for bad in ("", "not a key", private.replace("RSA PRIVATE", "EC PRIVATE")):
        with pytest.raises(InvalidInput) as exc:
            load_private_key(bad)
        assert key_marker(private) not in str(exc.value)


def test_app_client_reads_reports_billing_and_seats_with_one_cached_installation_token(sim, app_client, tokens):
    _, state = sim
    c = app_client()
    assert c.report_day("organization-1-day", DAY)
    assert c.billing()["seat_breakdown"]["total"] == 50
    assert len(c.seats()) == 50
    assert tokens.exchanges == 1
    [exchange] = _log(state, "app_access_token")
    assert exchange["status"] == 201 and exchange["auth"] == "jwt"
    assert exchange["path"] == f"/app/installations/{INSTALLATION_ID}/access_tokens"
    rest = [r for r in _log(state) if r["endpoint_kind"] not in ("app_access_token", "download")]
    assert rest and {r["auth"] for r in rest} == {"installation"} and {r["status"] for r in rest} == {200}
    assert len({r["token_sha256_prefix"] for r in rest}) == 1
    assert tokens.permissions(c.base_url, AppCredential(APP_ID, INSTALLATION_ID, Secret("x"))) == {
        "organization_copilot_metrics": "read", "organization_copilot_seat_management": "read"}


def test_installation_token_is_refreshed_shortly_before_it_expires(sim, app_client, tokens, clock):
    """GitHub's tokens live an hour; the cache gives a new one once less than 5 minutes are left (fake clock
    for the client, the simulator's App clock moved by the same amount)."""
    _, state = sim
    c = app_client()
    c.billing()
    first = _log(state, "billing")[-1]["token_sha256_prefix"]
    clock.advance(3600 - 300 - 30)  # 5½ minutes left: still the cached token
    state.advance_clock(3600 - 300 - 30)
    c.billing()
    assert tokens.exchanges == 1 and _log(state, "billing")[-1]["token_sha256_prefix"] == first
    clock.advance(60)  # 4½ minutes left: a new one, before GitHub would refuse the old one
    state.advance_clock(60)
    c.billing()
    assert tokens.exchanges == 2
    second = _log(state, "billing")[-1]["token_sha256_prefix"]
    assert second != first and _log(state, "billing")[-1]["status"] == 200
    assert not any(r["status"] == 401 for r in _log(state))


def test_a_401_gets_one_new_installation_token_and_the_request_again(sim, app_client, tokens):
    url, state = sim
    c = app_client()
    c.billing()
    httpx.post(f"{url}/_sim/installations/{INSTALLATION_ID}", json={"expire_tokens": True}).raise_for_status()
    assert c.billing()["seat_breakdown"]["total"] == 50
    assert tokens.exchanges == 2
    assert [r["status"] for r in _log(state, "billing")] == [200, 401, 200]


def test_an_uninstalled_app_is_token_revoked_app_uninstalled(sim, app_client, tokens):
    url, state = sim
    c = app_client()
    c.billing()
    httpx.post(f"{url}/_sim/installations/{INSTALLATION_ID}", json={"installed": False}).raise_for_status()
    with pytest.raises(TokenRevoked) as exc:
        c.billing()
    err = exc.value
    assert err.reason == "app_uninstalled" and err.http_status == 404
    assert err.to_metadata()["reason"] == "app_uninstalled"
    assert err.endpoint == f"/app/installations/{INSTALLATION_ID}/access_tokens"
    # one 401 with the old token, one exchange refused: never a retry loop
    assert [r["status"] for r in _log(state, "billing")] == [200, 401]
    assert [r["status"] for r in _log(state, "app_access_token")] == [201, 404]


def test_a_401_with_a_fresh_installation_token_is_the_apps(sim, app_client, monkeypatch):
    """The exchange works but GitHub refuses its token too: app_uninstalled after exactly one refresh."""
    _, state = sim
    c = app_client()
    monkeypatch.setattr(state, "issued_token", lambda token: None)  # the org no longer accepts its tokens
    with pytest.raises(TokenRevoked) as exc:
        c.billing()
    assert exc.value.reason == "app_uninstalled" and exc.value.http_status == 401
    assert [r["status"] for r in _log(state, "billing")] == [401, 401]


def test_a_missing_permission_is_access_denied_naming_the_app_permission(sim, app_client, tokens):
    _, state = sim
    install_app(state, "acme", seats=50, permissions={"organization_copilot_seat_management": "read"})
    c = app_client()
    assert c.billing()["seat_breakdown"]["total"] == 50  # billing is granted
    with pytest.raises(CopilotAccessDenied) as exc:
        c.report_day("organization-1-day", DAY)
    assert exc.value.reason == "app_permission_missing" and exc.value.http_status == 403
    assert "Organization Copilot metrics: read" in str(exc.value)
    install_app(state, "acme", seats=50, permissions={"organization_copilot_metrics": "read"})
    tokens.clear()  # a token keeps the permissions it was issued with: a new one carries the new grant
    with pytest.raises(CopilotAccessDenied) as exc:
        app_client().billing()
    assert exc.value.reason == "app_permission_missing"
    assert "GitHub Copilot Business: read" in str(exc.value)


def test_a_rejected_jwt_is_token_revoked_app_key_rejected(sim, app, app_client):
    other_private, _ = app_keypair(1)  # a key GitHub does not know for this App (regenerated, deleted)
    wrong = AppCredential(app_id=APP_ID, installation_id=INSTALLATION_ID, private_key=Secret(other_private))
    with pytest.raises(TokenRevoked) as exc:
        app_client(wrong).billing()
    assert exc.value.reason == "app_key_rejected" and exc.value.http_status == 401
    _, state = sim
    assert [r["status"] for r in _log(state, "app_access_token")] == [401]
    assert _log(state, "billing") == []  # nothing reached the org with it


def test_the_simulator_checks_the_jwt_times(sim, app):
    url, _ = sim
    private, _ = app_keypair()
    now = int(time.time())
    path = f"{url}/app/installations/{INSTALLATION_ID}/access_tokens"
    cases = {
        "valid": ({"iat": now - 60, "exp": now + 540, "iss": str(APP_ID)}, 201),
        "expired": ({"iat": now - 900, "exp": now - 300, "iss": str(APP_ID)}, 401),
        "too long": ({"iat": now - 60, "exp": now + 3600, "iss": str(APP_ID)}, 401),
        "from the future": ({"iat": now + 600, "exp": now + 900, "iss": str(APP_ID)}, 401),
        "another app": ({"iat": now - 60, "exp": now + 540, "iss": "1"}, 401),
    }
    for name, (claims, status) in cases.items():
        token = jwt.encode(claims, private, algorithm="RS256")
        resp = httpx.post(path, headers={"Authorization": f"Bearer {token}", "User-Agent": "t"})
        assert resp.status_code == status, name
    hs = jwt.encode({"iat": now - 60, "exp": now + 540, "iss": str(APP_ID)}, "x" * 32, algorithm="HS256")
    assert httpx.post(path, headers={"Authorization": f"Bearer {hs}"}).status_code == 401


def test_find_installation_from_the_org(sim, app, tokens):
    url, state = sim
    assert tokens.find_installation(url, APP_ID, app.private_key, "acme") == INSTALLATION_ID
    state.set_org("globex", tokens=[])
    with pytest.raises(NotFound):
        tokens.find_installation(url, APP_ID, app.private_key, "globex")
    assert {r["auth"] for r in _log(state, "app_installation")} == {"jwt"}


def test_authorization_goes_only_to_the_api_origin(sim, app_client):
    """A redirect to another host and the signed download links never get the installation token."""
    _, state = sim
    install_app(state, "acme", seats=50, shards=2,
                faults=[{"mode": "redirect_other_host", "endpoint": "organization-1-day", "times": 1}])
    c = app_client()
    with pytest.raises(InvalidRequest, match="a host other than the API host"):
        c.report_day("organization-1-day", DAY)
    first, other = _log(state, "organization-1-day")
    assert first["had_authorization"] and first["auth"] == "installation" and first["status"] == 307
    assert first["host"] != other["host"]
    assert not other["had_authorization"] and other["status"] == 401  # its 401 is not our token's
    assert c.report_day("users-1-day", DAY).shards == 2
    downloads = _log(state, "download")
    assert len(downloads) == 2 and not any(r["had_authorization"] for r in downloads)


def test_no_secret_in_reprs_errors_or_the_simulator_log(sim, app, app_client, tokens):
    url, state = sim
    private, _ = app_keypair()
    c = app_client()
    c.billing()
    [token] = [t for t, i in state.issued.items() if i.installation_id == INSTALLATION_ID]
    httpx.post(f"{url}/_sim/installations/{INSTALLATION_ID}", json={"installed": False}).raise_for_status()
    with pytest.raises(TokenRevoked) as exc:
        c.billing()
    texts = [repr(c), str(c), repr(app), repr(tokens), repr(c._auth), str(exc.value), repr(exc.value.to_metadata()),
             repr(state.request_log())]
    for text in texts:
        assert token not in text and key_marker(private) not in text and "eyJ" not in text
    assert token_prefix(token) in repr(state.request_log())  # the log keeps a hash prefix only


def test_one_app_serves_many_orgs_each_with_its_own_installation_token(sim, app, tokens, make_client):
    url, state = sim
    other = install_app(state, "globex", installation_id=INSTALLATION_ID + 1, seats=7)
    acme = make_client(token=None, auth=InstallationAuth(app, url, team="team-acme", tokens=tokens))
    globex = make_client(token=None, org="globex", team="team-globex",
                         auth=InstallationAuth(other, url, team="team-globex", tokens=tokens))
    assert acme.billing()["seat_breakdown"]["total"] == 50
    assert globex.billing()["seat_breakdown"]["total"] == 7
    assert tokens.exchanges == 2
    by_org = {r["org"]: r["token_sha256_prefix"] for r in _log(state, "billing")}
    assert by_org["acme"] != by_org["globex"]
    # an installation token opens its own org only
    [acme_token] = [t for t, i in state.issued.items() if i.org == "acme"]
    resp = httpx.get(f"{url}/orgs/globex/copilot/billing",
                     headers={"Authorization": f"Bearer {acme_token}", "User-Agent": "t"})
    assert resp.status_code == 404
