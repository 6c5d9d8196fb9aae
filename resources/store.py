"""The app store: SQLAlchemy Core over SQLite (embedded default) or PostgreSQL, migrated by Alembic.

Only this module and the resources talk to the database. Every write that touches several rows of one
team-day happens in one transaction (delete-then-insert), so a crash leaves the previous version intact.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from resources import settings, tables
from resources.flags import KNOWN_FLAGS, FlagDecision, resolve
from resources.secrets import CredentialUndecryptable, Secret, SecretBox, SecretKeyMissing, ensure_key_file, load_key
from resources.tables import (
    DAY_STATES,
    copilot_day_status,
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
    onboarding_error: str | None = None

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
        )


@dataclass(frozen=True)
class ActiveCredential:
    """The team's current credential: its id (failures revoke only the credential a run used), when it was
    connected, and the decrypted token (a ``Secret``: it never prints itself)."""

    id: int
    created_at: datetime
    token: Secret = field(repr=False)


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


class Store:
    """Typed access to the app store. Cheap to build; share one per process."""

    def __init__(self, url: str | None = None, *, secret_key: bytes | None = None) -> None:
        self.url = settings.normalize_database_url(url or settings.database_url())
        self.engine = make_engine(self.url)
        self._secret_key = secret_key
        self._box: SecretBox | None = None

    def __repr__(self) -> str:
        return f"Store({settings.redact_url(self.url)})"

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

    def set_onboarding(self, team_id: int, status: str, *, error: str | None = None,
                       conn: Connection | None = None) -> None:
        """Move the team's onboarding; ``error`` (why it stopped at ``failed``) is kept until the next cycle."""
        if status not in tables.ONBOARDING_STATUSES:
            raise InvalidInput(f"unknown onboarding status {status!r}")
        now = utcnow()
        values: dict[str, Any] = {"onboarding_pipeline_status": status, "updated_at": now}
        if status == "syncing_copilot":
            values["onboarding_started_at"] = now
            values["onboarding_error"] = None
        if error is not None:
            values["onboarding_error"] = error[:2000]
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

    def _active_credential_row(self, team_id: int) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(credentials.c.id, credentials.c.created_at, credentials.c.token_encrypted)
                .where(credentials.c.team_id == team_id, credentials.c.is_revoked.is_(False))
                .order_by(credentials.c.id.desc())
                .limit(1)
            ).first()

    def active_credential(self, team_id: int) -> ActiveCredential | None:
        """The team's current credential, decrypted; None when it has none. Raises
        ``CredentialUndecryptable`` (naming COPILOT_FLOW_SECRET_KEY) when the key cannot decrypt it."""
        row = self._active_credential_row(team_id)
        if row is None:
            return None
        return ActiveCredential(id=int(row.id), created_at=as_utc(row.created_at),  # type: ignore[arg-type]
                                token=self.box.decrypt(row.token_encrypted))

    def active_credential_meta(self, team_id: int) -> tuple[int, datetime] | None:
        """(id, connected at) of the team's current credential, without decrypting it."""
        row = self._active_credential_row(team_id)
        return None if row is None else (int(row.id), as_utc(row.created_at))  # type: ignore[return-value]

    def active_token(self, team_id: int) -> Secret | None:
        cred = self.active_credential(team_id)
        return cred.token if cred else None

    def credential_problem(self, team_id: int) -> str | None:
        """Why the team's credential cannot be used for a sync (``credential_missing`` /
        ``credential_undecryptable``), or None when it can."""
        try:
            return None if self.active_credential(team_id) is not None else "credential_missing"
        except CredentialUndecryptable:
            return "credential_undecryptable"

    def revoke_credentials(self, team_id: int, reason: str, *, credential_id: int | None = None,
                           conn: Connection | None = None) -> int:
        """Revoke the team's active credentials, or only ``credential_id`` (the one a failed run used)."""
        stmt = (
            credentials.update()
            .where(credentials.c.team_id == team_id, credentials.c.is_revoked.is_(False))
            .values(is_revoked=True, revoked_at=utcnow(), revoked_reason=reason)
        )
        if credential_id is not None:
            stmt = stmt.where(credentials.c.id == credential_id)
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
        revoke_credential_id: int | None = None,
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
                self.revoke_credentials(team_id, revoke_credential_reason, credential_id=revoke_credential_id,
                                        conn=conn)
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
        day_state_of: str | None = None,
        run_id: str | None = None,
    ) -> dict[str, int]:
        """Delete-then-insert the given tables for one team-day in one transaction.

        Only the tables named in ``rows_by_table`` are replaced. ``day_state_of`` (a synced asset's name)
        records, in the same transaction, that this asset's team-day now has data. Returns rows written
        per table.
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
            if day_state_of is not None:
                self._set_day_state(conn, team_id, day, day_state_of, "data", None, now, run_id)
        return written

    def record_observation(self, team_id: int, day: date, report: str, outcome: str,
                           run_id: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(copilot_report_observations.insert().values(
                team_id=team_id, day=day, report=report, outcome=outcome, observed_at=utcnow(), run_id=run_id
            ))

    # ------------------------------------------------------------------ team-day states (design §9.11)
    def _day_state_row(self, conn: Connection, team_id: int, day: date, asset: str) -> Any:
        s = copilot_day_status
        return conn.execute(sa.select(s).where(s.c.team_id == team_id, s.c.day == day, s.c.asset == asset)
                            ).first()

    def _set_day_state(self, conn: Connection, team_id: int, day: date, asset: str, state: str,
                       reason: str | None, now: datetime, run_id: str | None, *, checks: int = 0) -> None:
        if state not in DAY_STATES:
            raise ValueError(f"unknown day state {state!r}; expected one of {DAY_STATES}")
        s = copilot_day_status
        where = (s.c.team_id == team_id, s.c.day == day, s.c.asset == asset)
        values = {"state": state, "reason": reason, "last_checked_at": now, "run_id": run_id}
        if conn.execute(s.update().where(*where).values(**values, no_report_checks=s.c.no_report_checks + checks)
                        ).rowcount == 0:
            conn.execute(s.insert().values(team_id=team_id, day=day, asset=asset, first_checked_at=now,
                                           no_report_checks=checks, **values))

    def record_no_report(self, team_id: int, day: date, asset: str, report: str, why: str,
                         run_id: str | None = None) -> str:
        """GitHub had no report for this team-day yet (204, 404, an empty report). Logged as an observation;
        the day's state becomes ``no_report`` (re-fetched by the nightly inside the gap horizon) unless it
        already has data — stored rows are never replaced by a later "no report" (design §9.8) — or was
        confirmed empty. Returns the state the team-day is in afterwards."""
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(copilot_report_observations.insert().values(
                team_id=team_id, day=day, report=report, outcome=why, observed_at=now, run_id=run_id))
            row = self._day_state_row(conn, team_id, day, asset)
            if row is not None and row.state in ("data", "confirmed_empty"):
                return str(row.state)
            self._set_day_state(conn, team_id, day, asset, "no_report", why, now, run_id, checks=1)
        return "no_report"

    def day_states(self, team_ids: Iterable[int], assets: Sequence[str], start: date, end: date
                   ) -> dict[tuple[int, str, date], str]:
        """``(team_id, asset, day) → state`` for the stored states of those teams, assets and days."""
        ids = [int(i) for i in team_ids]
        if not ids or start > end:
            return {}
        s = copilot_day_status
        out: dict[tuple[int, str, date], str] = {}
        with self.engine.connect() as conn:
            for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
                q = sa.select(s.c.team_id, s.c.asset, s.c.day, s.c.state).where(
                    s.c.team_id.in_(chunk), s.c.asset.in_(list(assets)), s.c.day.between(start, end))
                for r in conn.execute(q):
                    day = r.day if isinstance(r.day, date) else date.fromisoformat(str(r.day))
                    out[(int(r.team_id), str(r.asset), day)] = str(r.state)
        return out

    def confirm_empty_days(self, team_ids: Iterable[int], before: date, horizon_days: int) -> int:
        """Team-days still ``no_report`` that have left the gap horizon (day < ``before``) become
        ``confirmed_empty`` — once, with the reason. Returns how many were confirmed."""
        ids = [int(i) for i in team_ids]
        if not ids:
            return 0
        s = copilot_day_status
        now = utcnow()
        reason = sa.func.coalesce(s.c.reason, "no_report")
        n = 0
        with self.engine.begin() as conn:
            for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
                n += conn.execute(
                    s.update()
                    .where(s.c.team_id.in_(chunk), s.c.state == "no_report", s.c.day < before)
                    .values(state="confirmed_empty", last_checked_at=now,
                            reason=f"still no report from GitHub when the day left the {horizon_days}-day "
                                   "gap horizon; last answer: " + reason)
                ).rowcount
        return n

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
