"""Input validation shared by the CLI, the store and the partitions (pure)."""

from __future__ import annotations

import re
from datetime import date

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
# GitHub org logins: alphanumerics and single hyphens, max 39 chars (case-insensitive)
ORG_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$")


class InvalidInput(ValueError):
    """Bad input from an operator or a caller; the message names what was wrong."""


def validate_slug(slug: str, what: str = "team slug") -> str:
    if not isinstance(slug, str) or not slug:
        raise InvalidInput(f"{what} is empty")
    bad = sorted({c for c in slug if c in ",|[] \t\n"})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise InvalidInput(f"{what} {slug!r} contains {shown}: partition keys cannot hold these characters")
    if not SLUG_RE.match(slug):
        raise InvalidInput(
            f"{what} {slug!r} is invalid: use 1-64 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return slug


def validate_org(org: str) -> str:
    if not isinstance(org, str) or not ORG_RE.match(org or ""):
        raise InvalidInput(f"GitHub organization {org!r} is invalid: use letters, digits and '-' (max 39)")
    return org


def parse_day(value: str, what: str = "date") -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{what} {value!r} is not a YYYY-MM-DD date") from None
