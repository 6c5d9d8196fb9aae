"""A run's typed outcomes → the team status machine, exactly once per (run, team).

Two callers, one code path:

- the sync step itself, before it raises its ``Failure`` (the primary path: nothing is lost when no sensor
  is looking — a new deployment, a sensor switched back on, a daemon that was down during the run);
- ``copilot_failure_sensor``, the backstop for runs whose step could not record them (a killed worker, a
  store that was unreachable), catching up on failed runs it has not processed yet.

Exactly once: a strike is keyed ``<run_id>:failed`` per team; 401s and 403s are keyed by their kind, so a
strike from one step never hides a 401 of another step of the same run. A success in the same run wins over
its transient failures (the run did sync the team).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from copilot_assets import status as sm
from copilot_assets.metrics import NIGHTLY_WINDOW_DAYS
from copilot_assets.partitions import TEAM_DIMENSION_TAG
from copilot_assets.team_health import apply_event
from resources.github_errors import FATAL_KINDS
from resources.store import Store, UnknownTeam

RUN_TRIGGER_TAG = "copilot/trigger"  # nightly | onboarding | gapfill | (none: UI, backfill)
NIGHT_TAG = "copilot/night"  # the nightly tick's date, YYYY-MM-DD: strikes follow the night, not the clock
TEAM_TAG = "copilot/team"
# failures that are not GitHub's answer about the team: never a strike, never a status change
NOT_GITHUB_KINDS = ("unknown_team", "team_disabled", "flag_off", "credential_missing", "credential_revoked",
                    "credential_undecryptable")
SEVERITY = {FATAL_KINDS[0]: 3, FATAL_KINDS[1]: 2}  # the worst of a team's failures in a run decides


def strike_window(tags: dict[str, str], created_at: datetime) -> tuple[date, date]:
    """The nightly window a run's failures are judged against: the night named by the run's
    ``copilot/night`` tag (a nightly run that executes late still counts), else the night of the run's
    creation (a UI re-run of the last days)."""
    night = tags.get(NIGHT_TAG)
    ref = date.fromisoformat(night) if night else created_at.astimezone(UTC).date()
    return ref - timedelta(days=NIGHTLY_WINDOW_DAYS), ref - timedelta(days=1)


def counts_toward_strikes(tags: dict[str, str], days: Iterable[date], created_at: datetime) -> bool:
    """decision 2: failures of nightly-window days and of onboarding runs count; backfills and gap fills of
    older days never do (their 401/403 still apply)."""
    trigger = tags.get(RUN_TRIGGER_TAG)
    if trigger == "onboarding":
        return True
    if trigger == "gapfill":
        return False
    start, end = strike_window(tags, created_at)
    return any(start <= d <= end for d in days)


def teams_of_run(tags: dict[str, str]) -> list[str]:
    """Teams a run targeted, from per-dimension tags or the one-team tag (range runs lack the former)."""
    if tags.get(TEAM_DIMENSION_TAG):
        return [tags[TEAM_DIMENSION_TAG]]
    if tags.get(TEAM_TAG):
        return [tags[TEAM_TAG]]
    return []


def failed_team_days(metadata: dict[str, Any]) -> list[dict[str, Any]]:
    """Read the ``failed_team_days`` list back from a Failure's metadata (raw or MetadataValue)."""
    value = metadata.get("failed_team_days")
    value = getattr(value, "value", value) if value is not None else None
    if isinstance(value, str):
        value = json.loads(value)
    if isinstance(value, list):
        return [dict(v) for v in value]
    team = metadata.get("team")
    team = getattr(team, "value", team)
    if not team:
        return []
    status = metadata.get("http_status")
    kind = metadata.get("error_kind")
    return [{"team": team, "day": None, "error_kind": getattr(kind, "value", kind),
             "http_status": getattr(status, "value", status)}]


def _worst(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return max(records, key=lambda r: SEVERITY.get(str(r.get("error_kind")), 1))


def apply_failures(
    store: Store,
    *,
    run_id: str,
    tags: dict[str, str],
    records: Sequence[dict[str, Any]],
    run_started_at: datetime,
    run_created_at: datetime,
    actor: str,
    log: Any = None,
) -> dict[str, str]:
    """Apply a run's failed team-days to each team's status, once per (run, team). ``records`` are
    ``failed_team_days`` entries (team, day, error_kind, http_status, reason, credential_id); with none,
    the run's tagged team gets one untyped ``run_failure``. Returns {team: what happened}."""
    by_team: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        by_team.setdefault(str(rec["team"]), []).append(rec)
    if not by_team:
        for slug in teams_of_run(tags):
            by_team[slug] = [{"team": slug, "day": None, "error_kind": "run_failure", "http_status": 0}]
    outcome: dict[str, str] = {}
    for slug, recs in sorted(by_team.items()):
        try:
            team = store.get_team(slug)
        except UnknownTeam:
            outcome[slug] = "unknown team"
            continue
        worst = _worst(recs)
        kind = str(worst.get("error_kind"))
        if kind in NOT_GITHUB_KINDS:
            outcome[slug] = f"not a GitHub failure ({kind})"
            continue
        if kind not in SEVERITY and store.run_outcome_applied(run_id, team.id):
            outcome[slug] = "synced in this run; transient failure not counted"
            continue
        days = [date.fromisoformat(r["day"]) for r in recs if r.get("day")]
        credential_id = worst.get("credential_id")
        event = sm.SyncFailed(
            at=datetime.now(UTC), run_started_at=run_started_at, error_kind=kind,
            http_status=int(worst.get("http_status") or 0) or None, reason=worst.get("reason"),
            counts_toward_strikes=counts_toward_strikes(tags, days, run_created_at) if days else
            tags.get(RUN_TRIGGER_TAG) in ("nightly", "onboarding"),
            credential_id=int(credential_id) if credential_id else None,
        )
        key = f"{run_id}:{kind}" if kind in SEVERITY else f"{run_id}:failed"
        tr = apply_event(store, team, event, actor=actor, run_id=run_id, outcome="failure", outcome_key=key,
                         detail=f"{kind} on {len(recs)} team-day(s)")
        if tr is None:
            outcome[slug] = "already applied"
        elif not tr.changed and not tr.revoke_credential:
            outcome[slug] = f"no change ({tr.reason})"
        else:
            outcome[slug] = (f"{tr.before.status} -> {tr.after.status} (failures {tr.before.consecutive_failures} "
                             f"-> {tr.after.consecutive_failures})" + (f", {tr.reason}" if tr.reason else ""))
        if log is not None:
            log.info(f"team {slug}: {outcome[slug]}")
    return outcome


__all__ = [
    "NIGHT_TAG",
    "NOT_GITHUB_KINDS",
    "RUN_TRIGGER_TAG",
    "TEAM_TAG",
    "apply_failures",
    "counts_toward_strikes",
    "failed_team_days",
    "strike_window",
    "teams_of_run",
]
