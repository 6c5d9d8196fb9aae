"""Team status transitions: the team row, its status event and credential revocation in one transaction,
exactly once per (run outcome, team)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from resources.store.base import StoreBase, as_utc, utcnow
from resources.tables import copilot_run_outcomes, copilot_status_events, teams


class HealthMixin(StoreBase):
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
