"""What an operator hands the CLI that must not sit in argv (a token, a webhook URL): read from an environment
variable the operator names, or from stdin."""

from __future__ import annotations

import sys

from resources import settings
from resources.validation import InvalidInput


def secret_input(env_var: str | None, what: str, flag: str) -> str:
    """The value of ``env_var`` when given, else stdin; InvalidInput naming ``flag`` when there is neither."""
    if env_var:
        value = settings.env_raw(env_var)
        if value is None:
            raise InvalidInput(f"environment variable {env_var} is not set")
        return value
    if sys.stdin is None or sys.stdin.isatty():
        raise InvalidInput(f"no {what}: pass {flag} VAR or pipe the {what} on stdin")
    return sys.stdin.read()
