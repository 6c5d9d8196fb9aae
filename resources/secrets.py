"""Tokens at rest: Fernet (cryptography). The key comes from ``COPILOT_FLOW_SECRET_KEY``; the demo writes
a key file (mode 0600) under ``$COPILOT_FLOW_HOME`` when none is set.

A decrypted token is held in a ``Secret``: its ``repr``/``str`` never show the value, so it cannot leak
into logs, exceptions, run tags or metadata by accident. Call ``.reveal()`` only where the HTTP header
is built.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from resources import settings

KEY_ENV = settings.SECRET_KEY_ENV
KEY_FILE_NAME = "secret.key"


class SecretKeyMissing(RuntimeError):
    pass


class CredentialUndecryptable(SecretKeyMissing):
    """A stored token cannot be decrypted with the configured key."""

    def __init__(self) -> None:
        super().__init__(
            f"a stored GitHub token cannot be decrypted with the configured {KEY_ENV}: set {KEY_ENV} back to "
            "the Fernet key the token was encrypted with, or reconnect the team with a new token "
            "(`copilot-flow teams connect <team> --token-env VAR`)"
        )


def missing_key_message(*, key_file_allowed: bool) -> str:
    """What to do when no key is configured: with PostgreSQL (or any shared store) the key must come from
    the environment; the embedded SQLite default may also use a local key file."""
    fix = f"set {KEY_ENV} to a Fernet key (python -c 'from cryptography.fernet import Fernet; " \
          "print(Fernet.generate_key().decode())'), the same one in every process of the deployment"
    if key_file_allowed:
        return f"no encryption key: {fix}, or run `copilot-flow db upgrade` once to create a local key file"
    return f"no encryption key for tokens at rest: {fix}"


class Secret:
    """A string that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret expects a str")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self):  # never pickled in clear by accident
        raise TypeError("Secret values cannot be pickled")


def key_file(home: Path) -> Path:
    return home / KEY_FILE_NAME


def ensure_key_file(home: Path) -> Path:
    """Create ``home/secret.key`` with mode 0600 if missing (demo and first local use)."""
    path = key_file(home)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(Fernet.generate_key())
    os.chmod(path, 0o600)
    return path


def load_key(home: Path | None = None) -> bytes:
    value = settings.secret_key()
    if value:
        return value.encode()
    if home is not None and key_file(home).exists():
        return key_file(home).read_bytes().strip()
    raise SecretKeyMissing(missing_key_message(key_file_allowed=home is not None))


class SecretBox:
    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            raise SecretKeyMissing(f"{KEY_ENV} is not a valid Fernet key (32 url-safe base64 bytes)") from None

    def encrypt(self, token: Secret | str) -> str:
        raw = token.reveal() if isinstance(token, Secret) else token
        return self._fernet.encrypt(raw.encode()).decode()

    def decrypt(self, blob: str) -> Secret:
        try:
            return Secret(self._fernet.decrypt(blob.encode()).decode())
        except InvalidToken:
            raise CredentialUndecryptable() from None

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"
