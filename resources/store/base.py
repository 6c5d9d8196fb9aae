"""What every part of the store shares: the engine, UTC helpers, the typed rows it hands out, its errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from resources import settings
from resources.secrets import Secret, SecretBox
from resources.validation import InvalidInput

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# The newest migration's revision (resources/migrations/versions/): a process finding the database there skips
# Alembic entirely (Store.at_head). tests/store/test_store.py checks it is Alembic's head.
HEAD_REVISION = "0004"


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: every time in this product is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UnknownTeam(InvalidInput):
    pass


class DuplicateTeam(InvalidInput):
    pass


@dataclass(frozen=True)
class Team:
    id: int
    slug: str
    name: str
    github_org: str
    copilot_status: str
    copilot_status_reason: str | None
    copilot_last_sync_at: datetime | None
    copilot_last_success_run_started_at: datetime | None
    copilot_consecutive_failures: int
    onboarding_pipeline_status: str
    onboarding_started_at: datetime | None
    created_at: datetime
    updated_at: datetime
    onboarding_error: str | None = None
    ai_credit_monthly_budget: float | None = None

    @classmethod
    def from_row(cls, row: Any) -> Team:
        m = row._mapping
        return cls(
            id=m["id"],
            slug=m["slug"],
            name=m["name"],
            github_org=m["github_org"],
            copilot_status=m["copilot_status"],
            copilot_status_reason=m["copilot_status_reason"],
            copilot_last_sync_at=as_utc(m["copilot_last_sync_at"]),
            copilot_last_success_run_started_at=as_utc(m["copilot_last_success_run_started_at"]),
            copilot_consecutive_failures=m["copilot_consecutive_failures"],
            onboarding_pipeline_status=m["onboarding_pipeline_status"],
            onboarding_started_at=as_utc(m["onboarding_started_at"]),
            created_at=as_utc(m["created_at"]),  # type: ignore[arg-type]
            updated_at=as_utc(m["updated_at"]),  # type: ignore[arg-type]
            onboarding_error=m["onboarding_error"],
            ai_credit_monthly_budget=m["ai_credit_monthly_budget"],
        )


@dataclass(frozen=True)
class ActiveCredential:
    """The team's current credential: its id (failures revoke only the credential a run used), when it was
    connected, and what it is — a token (``kind`` "token": the decrypted ``token``) or a GitHub App
    installation (``kind`` "github_app": ``app_id``, ``installation_id`` and the decrypted ``private_key``).
    Secrets are ``Secret``s: they never print themselves."""

    id: int
    created_at: datetime
    token: Secret | None = field(default=None, repr=False)
    kind: str = "token"
    app_id: int | None = None
    installation_id: int | None = None
    private_key: Secret | None = field(default=None, repr=False)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    url = settings.normalize_database_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30}, poolclass=sa.pool.NullPool)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


class StoreBase:
    """The attributes the store's parts use (the concrete ``Store`` sets them)."""

    url: str
    engine: Engine

    @property
    def box(self) -> SecretBox:  # pragma: no cover - Store overrides it
        raise NotImplementedError

    def revoke_credentials(self, team_id: int, reason: str, *, credential_id: int | None = None,
                           conn: Any = None) -> int:  # pragma: no cover - CredentialsMixin provides it
        raise NotImplementedError
