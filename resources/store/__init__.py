"""The app store: SQLAlchemy Core over SQLite (embedded default) or PostgreSQL, migrated by Alembic.

Only this package and the resources talk to the database (reads of team data go through
``resources.queries``). Every write that touches several rows of one team-day happens in one transaction
(delete-then-insert), so a crash leaves the previous version intact. ``Store`` is one object made of parts:
teams and flags, credentials, status transitions, team-day data, alert targets and raised alerts.
"""

from __future__ import annotations

import sqlalchemy as sa

from resources import settings
from resources.secrets import SecretBox, SecretKeyMissing, ensure_key_file, load_key
from resources.store.alerts import AlertsMixin, PendingAlert, RaisedAlert
from resources.store.base import (
    HEAD_REVISION,
    MIGRATIONS_DIR,
    ActiveCredential,
    DuplicateTeam,
    Team,
    UnknownTeam,
    as_utc,
    make_engine,
    utcnow,
)
from resources.store.credentials import CredentialsMixin
from resources.store.health import HealthMixin
from resources.store.team_days import TeamDaysMixin, TeamDayWrite
from resources.store.teams import TeamsMixin


class Store(TeamsMixin, CredentialsMixin, HealthMixin, TeamDaysMixin, AlertsMixin):
    """Typed access to the app store. Cheap to build; share one per process."""

    def __init__(self, url: str | None = None, *, secret_key: bytes | None = None) -> None:
        self.url = settings.normalize_database_url(url or settings.database_url())
        self.engine = make_engine(self.url)
        self._secret_key = secret_key
        self._box: SecretBox | None = None

    def __repr__(self) -> str:
        return f"Store({settings.redact_url(self.url)})"

    # ------------------------------------------------------------------ schema
    def at_head(self) -> bool:
        """Whether the database is already at ``HEAD_REVISION``: one query, without loading Alembic and its
        migration scripts (≈ 0.5 CPU-s that every Dagster run worker paid at its start; issue 20)."""
        try:
            with self.engine.connect() as conn:
                versions = [r[0] for r in conn.execute(sa.text("SELECT version_num FROM alembic_version"))]
        except sa.exc.DBAPIError:  # no alembic_version table yet: a new database
            return False
        return versions == [HEAD_REVISION]

    def ensure_schema(self) -> None:
        """``upgrade()`` unless the database is already at head."""
        if not self.at_head():
            self.upgrade()

    def upgrade(self, revision: str = "head") -> None:
        """Alembic ``upgrade`` to ``revision`` (default head; idempotent)."""
        from alembic import command

        self._alembic(command.upgrade, revision)

    def downgrade(self, revision: str) -> None:
        """Alembic ``downgrade`` to ``revision`` (operators: back out a release; tests: the migrations' way down)."""
        from alembic import command

        self._alembic(command.downgrade, revision)

    def _alembic(self, how, revision: str) -> None:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            how(cfg, revision)

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    # ------------------------------------------------------------------ secrets
    @property
    def box(self) -> SecretBox:
        if self._box is None:
            key = self._secret_key
            if key is None:
                if self.url.startswith("sqlite"):
                    home = settings.home()
                    try:
                        key = load_key(home)
                    except SecretKeyMissing:
                        ensure_key_file(home)  # embedded default: a local key file, mode 0600
                        key = load_key(home)
                else:  # a shared store: the key must come from the environment, the same in every process
                    key = load_key(None)
            self._box = SecretBox(key)
        return self._box


__all__ = [
    "HEAD_REVISION",
    "MIGRATIONS_DIR",
    "ActiveCredential",
    "DuplicateTeam",
    "PendingAlert",
    "RaisedAlert",
    "Store",
    "Team",
    "TeamDayWrite",
    "UnknownTeam",
    "as_utc",
    "make_engine",
    "utcnow",
]
