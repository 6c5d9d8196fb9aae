"""Apply status-machine events to a stored team: the one bridge between ``status.apply`` (pure) and the
store. Sensors, assets and the CLI all call this, so every transition lands the same way: team row,
``copilot_status_events`` row and credential revocation in one transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from copilot_assets import status as sm
from resources.store import Store, Team


def health_of(team: Team, credential: tuple[int, datetime] | None = None) -> sm.TeamHealth:
    """The pure machine's view of a stored team; ``credential`` = (id, connected at) of its current one."""
    return sm.TeamHealth(
        status=team.copilot_status,
        reason=team.copilot_status_reason,
        consecutive_failures=team.copilot_consecutive_failures,
        last_sync_at=team.copilot_last_sync_at,
        last_success_run_started_at=team.copilot_last_success_run_started_at,
        active_credential_id=credential[0] if credential else None,
        credential_connected_at=credential[1] if credential else None,
    )


def apply_event(
    store: Store,
    team: Team,
    event: Any,
    *,
    actor: str,
    run_id: str | None = None,
    detail: str | None = None,
    outcome: str | None = None,
    outcome_key: str | None = None,
) -> sm.Transition | None:
    """Apply ``event`` to ``team`` and persist it. With ``run_id`` and ``outcome`` the application is
    exactly-once per (run, team): a second call for the same run returns None and changes nothing.
    ``outcome_key`` (default: ``run_id``) keys that exactly-once marker when one run can carry two
    outcomes (a success and a failure); the event row always records the plain Dagster ``run_id``."""
    # re-read: the caller's Team may be stale (another run may have changed it)
    team = store.get_team_by_id(team.id)
    transition = sm.apply(health_of(team, store.active_credential_meta(team.id)), event, team.slug)
    after = transition.after
    event_row: dict[str, Any] | None = None
    if transition.changed or transition.revoke_credential:
        event_row = {
            "event": transition.event_name,
            "from_status": transition.before.status,
            "to_status": after.status,
            "from_failures": transition.before.consecutive_failures,
            "to_failures": after.consecutive_failures,
            "reason": transition.reason,
            "actor": actor,
            "run_id": run_id,
            "detail": detail,
        }
    applied = store.save_health(
        team.id,
        status=after.status,
        reason=after.reason,
        consecutive_failures=after.consecutive_failures,
        last_sync_at=after.last_sync_at,
        last_success_run_started_at=after.last_success_run_started_at,
        event=event_row,
        revoke_credential_reason=(transition.reason or "revoked") if transition.revoke_credential else None,
        # only the credential the failed run used (None: the run's credential is unknown → the active one)
        revoke_credential_id=getattr(event, "credential_id", None),
        run_outcome=(outcome_key or run_id, outcome) if (run_id and outcome) else None,
    )
    return transition if applied else None
