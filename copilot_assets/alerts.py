"""Alerts: what to tell, and to whom (pure; the sensor that finds them and delivers them is
``copilot_assets/alerts_sensor.py``, the delivery itself ``resources/webhooks.py``).

Three things are told, each exactly once (its dedup key):

- a team's status changed (one ``copilot_status_events`` row whose status differs from the one before):
  ``status:<event id>``, with the runbook hint of the new status and reason;
- a team-day left the gap horizon without a report (``copilot_day_status`` ``confirmed_empty``):
  ``confirmed_empty:<team id>:<day>``, one message per team-day whatever the assets;
- a nightly run failed (tag ``copilot/trigger=nightly``): ``nightly_failed:<run id>`` to the global targets
  (every team of the run), ``nightly_failed:<run id>:<team id>`` to each team's own targets (that team only:
  a team's webhook never hears about another team).

A message is plain text (Slack) plus structured fields (the generic body); it holds slugs, statuses,
reasons, days, run ids and hints — never a token, key, URL or signature.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from resources.statuses import alert_hint, hint_for
from resources.store import RaisedAlert
from resources.webhooks import WebhookTarget

PRODUCT = "Copilot Data Flow"
STATUS_CHANGED = "status_changed"
DAY_CONFIRMED_EMPTY = "day_confirmed_empty"
NIGHTLY_FAILED = "nightly_failed"
TEST = "test"
ALERT_KINDS = (STATUS_CHANGED, DAY_CONFIRMED_EMPTY, NIGHTLY_FAILED)
# who hears an alert: global targets and the team's own ("all"), only the global ones, or only the team's
AUDIENCES = ("all", "global", "team")


@dataclass(frozen=True)
class Alert:
    key: str
    kind: str
    text: str
    team_id: int | None = None
    team: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    audience: str = "all"

    def message(self) -> dict[str, Any]:
        """The generic JSON body (Slack gets ``text`` only)."""
        return {"id": self.key, "kind": self.kind, "team": self.team, "text": self.text, **self.fields}


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)).isoformat()
    return str(value)


def status_alert(row: Mapping[str, Any]) -> Alert:
    """A status change (a ``resources.queries.status_changes_all_teams`` row)."""
    slug, before, after, reason = row["slug"], row["from_status"], row["to_status"], row["reason"]
    # the reason recorded with a change to a non-connected status is the new status's reason
    state_reason = None if after in ("connected", "disabled") else reason
    hint = hint_for(after, state_reason, slug)
    now = f"{after} ({state_reason})" if state_reason else after
    text = f"{PRODUCT}: team {slug} is now {now}" + (f", was {before}" if before else "") + f". {hint}"
    return Alert(key=f"status:{int(row['id'])}", kind=STATUS_CHANGED, text=text, team_id=int(row["team_id"]),
                 team=slug, fields={"from_status": before, "to_status": after, "reason": state_reason,
                                    "event": row.get("event"), "at": _iso(row.get("at")), "hint": hint})


def confirmed_empty_alerts(rows: Iterable[Mapping[str, Any]], horizon_days: int) -> list[Alert]:
    """One alert per team-day confirmed empty (``resources.queries.confirmed_empty_all_teams`` rows)."""
    by_day: dict[tuple[int, str, date], list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        day = r["day"] if isinstance(r["day"], date) else date.fromisoformat(str(r["day"])[:10])
        by_day[(int(r["team_id"]), str(r["slug"]), day)].append(r)
    out = []
    for (team_id, slug, day), recs in sorted(by_day.items(), key=lambda kv: (kv[0][1], kv[0][2])):
        assets = sorted({str(r["asset"]) for r in recs})
        hint = alert_hint(DAY_CONFIRMED_EMPTY, slug).replace("<day>", day.isoformat())
        text = (f"{PRODUCT}: team {slug} has no Copilot report for {day.isoformat()} ({', '.join(assets)}): the "
                f"day left the {horizon_days}-day gap horizon without one and is recorded as confirmed empty. "
                f"{hint}")
        out.append(Alert(key=f"confirmed_empty:{team_id}:{day.isoformat()}", kind=DAY_CONFIRMED_EMPTY, text=text,
                         team_id=team_id, team=slug,
                         fields={"day": day.isoformat(), "assets": assets, "hint": hint,
                                 "last_answer": sorted({str(r.get("reason") or "") for r in recs})}))
    return out


def _team_line(slug: str, failures: Sequence[Mapping[str, Any]]) -> tuple[str, dict[str, int]]:
    kinds: dict[str, int] = defaultdict(int)
    for f in failures:
        status = int(f.get("http_status") or 0)
        kinds[str(f.get("error_kind")) + (f" (HTTP {status})" if status else "")] += 1
    return f"{slug}: " + "; ".join(f"{k} on {n} team-day(s)" for k, n in sorted(kinds.items())), dict(kinds)


def nightly_failed_alerts(run_id: str, night: str | None, failures: Sequence[Mapping[str, Any]],
                          teams: Mapping[str, tuple[int, str, str | None]]) -> list[Alert]:
    """A failed nightly run: one alert for the global targets (every team), one per team for its own.
    ``teams``: slug → (team id, status, reason) now, for each team's hint."""
    by_team: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for f in failures:
        by_team[str(f.get("team") or "?")].append(f)
    when = f" (night {night})" if night else ""
    head = f"{PRODUCT}: nightly run {run_id[:8]}{when} failed"

    def hint(slug: str) -> str:
        _, status, reason = teams.get(slug, (0, "connected", None))
        return alert_hint("sync_failed", slug) if status == "connected" else hint_for(status, reason, slug)

    lines = {slug: _team_line(slug, recs) for slug, recs in sorted(by_team.items())}
    if not lines:
        text = f"{head} before any team-day was attempted. {alert_hint('sync_failed', None)}"
        return [Alert(key=f"nightly_failed:{run_id}", kind=NIGHTLY_FAILED, text=text, audience="global",
                      fields={"run_id": run_id, "night": night, "teams": {}})]
    body = " | ".join(f"{line} → {hint(slug)}" for slug, (line, _) in lines.items())
    per_team = {slug: {"failures": kinds, "hint": hint(slug)} for slug, (_, kinds) in lines.items()}
    out = [Alert(key=f"nightly_failed:{run_id}", kind=NIGHTLY_FAILED, text=f"{head}: {body}", audience="global",
                 fields={"run_id": run_id, "night": night, "teams": per_team})]
    for slug, (line, kinds) in lines.items():
        if slug not in teams:
            continue
        team_id = teams[slug][0]
        out.append(Alert(key=f"nightly_failed:{run_id}:{team_id}", kind=NIGHTLY_FAILED, team_id=team_id, team=slug,
                         text=f"{head} for team {line} → {hint(slug)}", audience="team",
                         fields={"run_id": run_id, "night": night, "failures": kinds, "hint": hint(slug)}))
    return out


def ping_alert(team: str | None = None) -> Alert:
    """What `copilot-flow alerts test` sends."""
    scope = f"team {team}" if team else "all teams"
    return Alert(key=f"test:{datetime.now(UTC).isoformat()}", kind=TEST, team=team,
                 text=f"{PRODUCT}: test message for {scope}. Alerts arrive here when a team's status changes, a "
                      "team-day leaves the gap horizon without a report, or a nightly run fails.")


def targets_for(alert: Alert, targets: Sequence[WebhookTarget]) -> tuple[int, ...]:
    """The ids of the targets that hear an alert (global targets; the team's own, by audience)."""
    ids = []
    for t in targets:
        if t.team_id is None and alert.audience in ("all", "global"):
            ids.append(t.id)
        elif t.team_id is not None and t.team_id == alert.team_id and alert.audience in ("all", "team"):
            ids.append(t.id)
    return tuple(ids)


def raised(alerts: Iterable[Alert], targets: Sequence[WebhookTarget], sent_at: datetime) -> list[RaisedAlert]:
    """The alerts as the store records them (dedup key, message, the targets that hear them)."""
    out = []
    for a in alerts:
        ids = targets_for(a, targets)
        if ids:
            out.append(RaisedAlert(key=a.key, kind=a.kind, team_id=a.team_id,
                                   message={**a.message(), "raised_at": sent_at.isoformat()}, target_ids=ids))
    return out


__all__ = [
    "ALERT_KINDS",
    "AUDIENCES",
    "DAY_CONFIRMED_EMPTY",
    "NIGHTLY_FAILED",
    "STATUS_CHANGED",
    "Alert",
    "confirmed_empty_alerts",
    "nightly_failed_alerts",
    "ping_alert",
    "raised",
    "status_alert",
    "targets_for",
]
