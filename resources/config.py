"""Environment configuration: the variables in README's table, resolved in one place."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_GITHUB_API_URL = "https://api.github.com"


def home() -> Path:
    """``$COPILOT_FLOW_HOME`` (default ``./.copilot-flow``), created on first use."""
    path = Path(os.environ.get("COPILOT_FLOW_HOME", ".copilot-flow")).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    """App store URL: ``COPILOT_FLOW_DATABASE_URL`` or a SQLite file under the home."""
    url = os.environ.get("COPILOT_FLOW_DATABASE_URL", "").strip()
    if url:
        return normalize_database_url(url)
    return f"sqlite:///{home() / 'copilot_flow.db'}"


def normalize_database_url(url: str) -> str:
    """SQLAlchemy 2.1 maps bare ``postgresql://`` to psycopg 3, which is not installed: use psycopg2."""
    for bare in ("postgresql://", "postgres://"):
        if url.startswith(bare):
            return "postgresql+psycopg2://" + url[len(bare):]
    return url


def github_api_url() -> str:
    return os.environ.get("COPILOT_FLOW_GITHUB_API_URL", "").strip() or DEFAULT_GITHUB_API_URL


def redact_url(url: str) -> str:
    """A database URL safe to print: the password is masked."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database url>"
