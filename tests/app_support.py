"""GitHub App test helpers: an RSA key pair per session, an App installed on a simulated org, a fake clock."""

from __future__ import annotations

import functools
import time
from typing import Any

from resources.github import AppCredential
from resources.secrets import Secret
from simulators.github import SimState, new_app_key_pair

APP_ID = 424242
INSTALLATION_ID = 7_000_001


def app_keypair(n: int = 0) -> tuple[str, str]:
    """(private key PEM, public key PEM) of test App ``n`` (generated once per session)."""
    return _keypair(int(n))


@functools.cache
def _keypair(n: int) -> tuple[str, str]:
    return new_app_key_pair()


def key_marker(pem: str) -> str:
    """A distinctive line of a PEM private key: what a leak of the key would contain."""
    lines = [ln for ln in pem.splitlines() if ln and "-----" not in ln]
    return lines[len(lines) // 2]


def install_app(state: SimState, org: str, *, app_id: int = APP_ID, installation_id: int = INSTALLATION_ID,
                permissions: dict[str, str] | None = None, key: int = 0, **org_cfg: Any) -> AppCredential:
    """Register the App's public key and install it on ``org`` (which accepts no personal token unless
    ``tokens`` is given). Returns the credential a team connects with."""
    private, public = app_keypair(key)
    with state.lock:
        state.config.apps[str(app_id)] = public
    inst: dict[str, Any] = {"app_id": app_id, "installation_id": installation_id}
    if permissions is not None:
        inst["permissions"] = permissions
    org_cfg.setdefault("tokens", [])
    state.set_org(org, app_installation=inst, **org_cfg)
    return AppCredential(app_id=app_id, installation_id=installation_id, private_key=Secret(private))


class FakeClock:
    """Epoch seconds that move only when told to (starts at the real time, so GitHub-style checks pass)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
