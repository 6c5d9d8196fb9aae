"""Teams, their onboarding step, and feature flags (global, with per-team overrides)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from resources.flags import KNOWN_FLAGS, FlagDecision, resolve
from resources.statuses import DISABLED, ONBOARDING_STATUSES
from resources.store.base import DuplicateTeam, StoreBase, Team, UnknownTeam, utcnow
from resources.tables import feature_flags, teams
from resources.validation import InvalidInput, validate_org, validate_slug


class TeamsMixin(StoreBase):
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
                    slug=slug, name=name.strip(), github_org=github_org, copilot_status=DISABLED,
                    copilot_consecutive_failures=0, onboarding_pipeline_status="not_started",
                    created_at=now, updated_at=now,
                )
            )
        return self.get_team(slug)

    def _one_team(self, where: Any, missing: str) -> Team:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(teams).where(where)).first()
        if row is None:
            raise UnknownTeam(missing)
        return Team.from_row(row)

    def get_team(self, slug: str) -> Team:
        return self._one_team(teams.c.slug == slug, f"unknown team {slug!r} (see `copilot-flow teams list`)")

    def get_team_by_id(self, team_id: int) -> Team:
        return self._one_team(teams.c.id == team_id, f"unknown team id {team_id}")

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
        if status not in ONBOARDING_STATUSES:
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

    def set_ai_credit_budget(self, team_id: int, credits_per_month: float | None) -> None:
        """The team's AI-credit budget per calendar month (None: no budget)."""
        if credits_per_month is not None and not (credits_per_month >= 0 and credits_per_month < float("inf")):
            raise InvalidInput(f"AI-credit budget {credits_per_month!r} must be a number >= 0")
        with self.engine.begin() as conn:
            conn.execute(teams.update().where(teams.c.id == team_id).values(
                ai_credit_monthly_budget=credits_per_month, updated_at=utcnow()))

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
