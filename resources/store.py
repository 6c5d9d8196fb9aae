"""The app store: SQLAlchemy Core over SQLite (embedded default) or PostgreSQL, migrated by Alembic.

Only this module and the resources talk to the database. Every write that touches several rows of one
team-day happens in one transaction (delete-then-insert), so a crash leaves the previous version intact.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from resources import config, tables
from resources.flags import KNOWN_FLAGS, FlagDecision, resolve
from resources.secrets import Secret, SecretBox, ensure_key_file, load_key
from resources.tables import (
    copilot_raw_reports,
    copilot_report_observations,
    copilot_run_outcomes,
    copilot_status_events,
    credentials,
    feature_flags,
    teams,
)
from resources.validation import InvalidInput, validate_org, validate_slug

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


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
        )


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    url = config.normalize_database_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30}, poolclass=sa.pool.NullPool)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


class Store:
    """Typed access to the app store. Cheap to build; share one per process."""

    def __init__(self, url: str | None = None, *, secret_key: bytes | None = None) -> None:
        self.url = config.normalize_database_url(url or config.database_url())
        self.engine = make_engine(self.url)
        self._secret_key = secret_key
        self._box: SecretBox | None = None

    def __repr__(self) -> str:
        return f"Store({config.redact_url(self.url)})"

    # ------------------------------------------------------------------ schema
    def upgrade(self) -> None:
        """Alembic ``upgrade head`` (idempotent)."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

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
                home = config.home()
                try:
                    key = load_key(home)
                except Exception:
                    if self.url.startswith("sqlite"):
                        ensure_key_file(home)  # embedded default: a local key file, mode 0600
                        key = load_key(home)
                    else:
                        raise
            self._box = SecretBox(key)
        return self._box

    # ------------------------------------------------------------------ teams
    def add_team(self, slug: str, *, name: str, github_org: str) -> Team:
        validate_slug(slug)
        validate_org(github_org)
        if not name or not name.strip():
            raise InvalidInput("team name is empty")
        now = utcnow()
        with self.engine.begin() as conn:
            if conn.execute(sa.select(teams.c.id).where(teams.c.slug == slug)).first():
                raise DuplicateTeam(f"team {slug!r} already exists")
            conn.execute(
                teams.insert().values(
                    slug=slug, name=name.strip(), github_org=github_org, copilot_status="disabled",
                    copilot_consecutive_failures=0, onboarding_pipeline_status="not_started",
                    created_at=now, updated_at=now,
                )
            )
        return self.get_team(slug)

    def get_team(self, slug: str) -> Team:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(teams).where(teams.c.slug == slug)).first()
        if row is None:
            raise UnknownTeam(f"unknown team {slug!r} (see `copilot-flow teams list`)")
        return Team.from_row(row)

    def get_team_by_id(self, team_id: int) -> Team:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(teams).where(teams.c.id == team_id)).first()
        if row is None:
            raise UnknownTeam(f"unknown team id {team_id}")
        return Team.from_row(row)

    def list_teams(self, status: str | None = None) -> list[Team]:
        q = sa.select(teams).order_by(teams.c.slug)
        if status:
            q = q.where(teams.c.copilot_status == status)
        with self.engine.connect() as conn:
            return [Team.from_row(r) for r in conn.execute(q)]

    def teams_by_slug(self, slugs: Iterable[str]) -> dict[str, Team]:
        slugs = list(slugs)
        if not slugs:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(teams).where(teams.c.slug.in_(slugs)))
            return {r.slug: Team.from_row(r) for r in rows}

    def set_onboarding(self, team_id: int, status: str, *, conn: Connection | None = None) -> None:
        if status not in tables.ONBOARDING_STATUSES:
            raise InvalidInput(f"unknown onboarding status {status!r}")
        now = utcnow()
        values: dict[str, Any] = {"onboarding_pipeline_status": status, "updated_at": now}
        if status == "syncing_copilot":
            values["onboarding_started_at"] = now
        stmt = teams.update().where(teams.c.id == team_id).values(**values)
        if conn is not None:
            conn.execute(stmt)
            return
        with self.engine.begin() as c:
            c.execute(stmt)

    # ------------------------------------------------------------------ credentials
    def store_credential(self, team_id: int, token: Secret, *, verified: bool) -> int:
        """Store a new token (encrypted). Older credentials of the team are kept, marked revoked."""
        if not token.reveal().strip():
            raise InvalidInput("token is empty")
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                credentials.update()
                .where(credentials.c.team_id == team_id, credentials.c.is_revoked.is_(False))
                .values(is_revoked=True, revoked_at=now, revoked_reason="replaced")
            )
            res = conn.execute(
                credentials.insert().values(
                    team_id=team_id, token_encrypted=self.box.encrypt(token), is_revoked=False,
                    created_at=now, verified_at=now if verified else None,
                )
            )
            return int(res.inserted_primary_key[0])

    def active_token(self, team_id: int) -> Secret | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(credentials.c.token_encrypted)
                .where(credentials.c.team_id == team_id, credentials.c.is_revoked.is_(False))
                .order_by(credentials.c.id.desc())
                .limit(1)
            ).first()
        return self.box.decrypt(row.token_encrypted) if row else None

    def revoke_credentials(self, team_id: int, reason: str, *, conn: Connection | None = None) -> int:
        stmt = (
            credentials.update()
            .where(credentials.c.team_id == team_id, credentials.c.is_revoked.is_(False))
            .values(is_revoked=True, revoked_at=utcnow(), revoked_reason=reason)
        )
        if conn is not None:
            return conn.execute(stmt).rowcount
        with self.engine.begin() as c:
            return c.execute(stmt).rowcount

    def credential_rows(self, team_id: int) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(
                sa.select(credentials).where(credentials.c.team_id == team_id).order_by(credentials.c.id)
            )]

    # ------------------------------------------------------------------ flags
    def set_flag(self, name: str, enabled: bool, *, team_id: int | None = None) -> None:
        if name not in KNOWN_FLAGS:
            raise InvalidInput(f"unknown flag {name!r} (known: {', '.join(KNOWN_FLAGS)})")
        scope = "global" if team_id is None else f"team:{team_id}"
        now = utcnow()
        with self.engine.begin() as conn:
            updated = conn.execute(
                feature_flags.update()
                .where(feature_flags.c.name == name, feature_flags.c.scope == scope)
                .values(enabled=enabled, updated_at=now)
            ).rowcount
            if not updated:
                conn.execute(feature_flags.insert().values(
                    name=name, scope=scope, team_id=team_id, enabled=enabled, updated_at=now
                ))

    def flag_values(self, name: str) -> tuple[bool | None, dict[int, bool]]:
        """(global value or None, {team_id: override})."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(feature_flags).where(feature_flags.c.name == name)).all()
        global_value = next((r.enabled for r in rows if r.scope == "global"), None)
        overrides = {r.team_id: bool(r.enabled) for r in rows if r.team_id is not None}
        return (None if global_value is None else bool(global_value)), overrides

    def flag_for_team(self, name: str, team_id: int) -> FlagDecision:
        global_value, overrides = self.flag_values(name)
        return resolve(global_value, overrides.get(team_id))

    # ------------------------------------------------------------------ status
    def save_health(
        self,
        team_id: int,
        *,
        status: str,
        reason: str | None,
        consecutive_failures: int,
        last_sync_at: datetime | None,
        last_success_run_started_at: datetime | None,
        event: Mapping[str, Any] | None,
        revoke_credential_reason: str | None = None,
        run_outcome: tuple[str, str] | None = None,
    ) -> bool:
        """Persist a status transition, its event row, an optional credential revocation and the
        run-outcome marker in ONE transaction. Returns False when ``run_outcome`` (run_id, outcome) was
        already applied to this team (exactly once per run, across sensor restarts)."""
        now = utcnow()
        with self.engine.begin() as conn:
            if run_outcome is not None:
                run_id, outcome = run_outcome
                seen = conn.execute(sa.select(copilot_run_outcomes.c.run_id).where(
                    copilot_run_outcomes.c.run_id == run_id, copilot_run_outcomes.c.team_id == team_id
                )).first()
                if seen:
                    return False
                conn.execute(copilot_run_outcomes.insert().values(
                    run_id=run_id, team_id=team_id, outcome=outcome, applied_at=now
                ))
            conn.execute(
                teams.update().where(teams.c.id == team_id).values(
                    copilot_status=status,
                    copilot_status_reason=reason,
                    copilot_consecutive_failures=consecutive_failures,
                    copilot_last_sync_at=last_sync_at,
                    copilot_last_success_run_started_at=last_success_run_started_at,
                    updated_at=now,
                )
            )
            if revoke_credential_reason:
                self.revoke_credentials(team_id, revoke_credential_reason, conn=conn)
            if event is not None:
                conn.execute(copilot_status_events.insert().values(team_id=team_id, at=now, **event))
        return True

    def run_outcome_applied(self, run_id: str, team_id: int) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(copilot_run_outcomes.c.run_id).where(
                copilot_run_outcomes.c.run_id == run_id, copilot_run_outcomes.c.team_id == team_id
            )).first() is not None

    def status_events(self, team_id: int, limit: int = 20) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(copilot_status_events)
                .where(copilot_status_events.c.team_id == team_id)
                .order_by(copilot_status_events.c.id.desc())
                .limit(limit)
            )
            return [{**r._mapping, "at": as_utc(r.at)} for r in rows]

    # ------------------------------------------------------------------ copilot data
    def replace_team_day(
        self,
        team_id: int,
        day: date,
        rows_by_table: Mapping[str, Sequence[Mapping[str, Any]]],
        *,
        raw_reports: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    ) -> dict[str, int]:
        """Delete-then-insert the given tables for one team-day in one transaction.

        Only the tables named in ``rows_by_table`` are replaced. Returns rows written per table.
        """
        now = utcnow()
        written: dict[str, int] = {}
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Two writers of the same team-day at once: under READ COMMITTED the second one's DELETE
                # cannot see the first one's freshly inserted rows and its INSERT then violates the primary
                # key. Serialize writers per team-day (SQLite already serializes all writers).
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:team_id, :day)"),
                             {"team_id": int(team_id), "day": day.toordinal()})
            for name, rows in rows_by_table.items():
                table = tables.TEAM_DAY_TABLES[name]
                conn.execute(table.delete().where(table.c.team_id == team_id, table.c.day == day))
                if rows:
                    conn.execute(table.insert(), [{**r, "team_id": team_id, "day": day} for r in rows])
                written[name] = len(rows)
            for report, records in (raw_reports or {}).items():
                conn.execute(copilot_raw_reports.delete().where(
                    copilot_raw_reports.c.team_id == team_id,
                    copilot_raw_reports.c.day == day,
                    copilot_raw_reports.c.report == report,
                ))
                conn.execute(copilot_raw_reports.insert().values(
                    team_id=team_id, day=day, report=report, fetched_at=now,
                    record_count=len(records), payload=json.dumps(list(records), separators=(",", ":")),
                ))
        return written

    def record_observation(self, team_id: int, day: date, report: str, outcome: str,
                           run_id: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(copilot_report_observations.insert().values(
                team_id=team_id, day=day, report=report, outcome=outcome, observed_at=utcnow(), run_id=run_id
            ))

    def count_rows(self, table_name: str, team_id: int | None = None, day: date | None = None) -> int:
        table = tables.metadata.tables[table_name]
        q = sa.select(sa.func.count()).select_from(table)
        if team_id is not None:
            q = q.where(table.c.team_id == team_id)
        if day is not None:
            q = q.where(table.c.day == day)
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())

    def days_present(self, table_name: str, team_id: int, start: date, end: date) -> set[date]:
        table = tables.metadata.tables[table_name]
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(table.c.day).distinct().where(
                table.c.team_id == team_id, table.c.day >= start, table.c.day <= end
            ))
            return {r.day for r in rows}
