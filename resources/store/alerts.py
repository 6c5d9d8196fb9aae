"""Alert targets (webhook URL and signing secret encrypted, global or per team) and the alerts raised for
them: one ``copilot_alerts_sent`` row per (alert, target), written before delivery, so an alert is delivered
at most once per target whatever the sensor re-evaluates, and a failed delivery is retried on the next tick."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from resources.secrets import Secret
from resources.store.base import StoreBase, as_utc, utcnow
from resources.tables import ALERT_FORMATS, alert_targets, copilot_alerts_sent
from resources.validation import InvalidInput
from resources.webhooks import WebhookTarget


@dataclass(frozen=True)
class RaisedAlert:
    """An alert to record for delivery: its dedup key, kind, team, message (no secret) and target ids."""

    key: str
    kind: str
    team_id: int | None
    message: dict[str, Any]
    target_ids: tuple[int, ...]


@dataclass(frozen=True)
class PendingAlert:
    id: int
    dedup_key: str
    target_id: int
    kind: str
    message: dict[str, Any]
    attempts: int
    created_at: datetime


class AlertsMixin(StoreBase):
    # ------------------------------------------------------------------ targets
    def add_alert_target(self, *, format: str, url: Secret, secret: Secret | None = None,
                         team_id: int | None = None) -> int:
        if format not in ALERT_FORMATS:
            raise InvalidInput(f"alert format {format!r} must be one of {', '.join(ALERT_FORMATS)}")
        if format == "generic" and (secret is None or not secret.reveal().strip()):
            raise InvalidInput("a generic webhook needs a signing secret")
        with self.engine.begin() as conn:
            res = conn.execute(alert_targets.insert().values(
                team_id=team_id, format=format, url_encrypted=self.box.encrypt(url),
                secret_encrypted=self.box.encrypt(secret) if secret is not None and format == "generic" else None,
                created_at=utcnow()))
            return int(res.inserted_primary_key[0])

    def alert_targets(self, *, team_id: int | None = None, include_global: bool = True,
                      only_team: bool = False) -> list[WebhookTarget]:
        """Targets, decrypted: every one (default), or a team's own (``only_team``) and the global ones
        (``include_global``). Raises ``CredentialUndecryptable`` when the key cannot decrypt one."""
        t = alert_targets
        q = sa.select(t).order_by(t.c.id)
        if only_team or team_id is not None:
            cond = t.c.team_id == team_id if team_id is not None else sa.false()
            q = q.where(sa.or_(cond, t.c.team_id.is_(None)) if include_global else cond)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return [WebhookTarget(id=int(r.id), team_id=r.team_id, format=r.format, url=self.box.decrypt(r.url_encrypted),
                              secret=self.box.decrypt(r.secret_encrypted) if r.secret_encrypted else None)
                for r in rows]

    def remove_alert_target(self, target_id: int) -> bool:
        """Remove a target (and the record of what was sent to it)."""
        with self.engine.begin() as conn:
            conn.execute(copilot_alerts_sent.delete().where(copilot_alerts_sent.c.target_id == int(target_id)))
            return conn.execute(alert_targets.delete().where(alert_targets.c.id == int(target_id))).rowcount > 0

    # ------------------------------------------------------------------ raised alerts
    def record_alerts(self, alerts: Iterable[RaisedAlert]) -> int:
        """Record alerts for delivery, once per (dedup key, target): an alert already recorded for a target
        (sent or not) is not recorded again. Returns how many (alert, target) rows were added."""
        wanted = [(a, tid) for a in alerts for tid in a.target_ids]
        if not wanted:
            return 0
        s = copilot_alerts_sent
        now = utcnow()
        added = 0
        with self.engine.begin() as conn:
            keys = sorted({a.key for a, _ in wanted})
            have: set[tuple[str, int]] = set()
            for i in range(0, len(keys), 500):
                q = sa.select(s.c.dedup_key, s.c.target_id).where(s.c.dedup_key.in_(keys[i:i + 500]))
                have |= {(str(k), int(t)) for k, t in conn.execute(q)}
            for alert, tid in wanted:
                if (alert.key, tid) in have:
                    continue
                conn.execute(s.insert().values(
                    dedup_key=alert.key, target_id=tid, team_id=alert.team_id, kind=alert.kind,
                    payload=json.dumps(alert.message, sort_keys=True, default=str), state="pending", attempts=0,
                    created_at=now))
                have.add((alert.key, tid))
                added += 1
        return added

    def pending_alerts(self, limit: int = 200) -> list[PendingAlert]:
        s = copilot_alerts_sent
        q = sa.select(s).where(s.c.state == "pending").order_by(s.c.id).limit(limit)
        with self.engine.connect() as conn:
            return [PendingAlert(id=int(r.id), dedup_key=r.dedup_key, target_id=int(r.target_id), kind=r.kind,
                                 message=json.loads(r.payload), attempts=int(r.attempts),
                                 created_at=as_utc(r.created_at))  # type: ignore[arg-type]
                    for r in conn.execute(q)]

    def mark_alert(self, alert_id: int, *, sent: bool, attempts: int, error: str | None = None,
                   abandon: bool = False) -> None:
        s = copilot_alerts_sent
        now = utcnow()
        values: dict[str, Any] = {"attempts": s.c.attempts + attempts, "last_attempt_at": now}
        if sent:
            values.update(state="sent", sent_at=now, last_error=None)
        else:
            values.update(last_error=(error or "failed")[:500], state="abandoned" if abandon else "pending")
        with self.engine.begin() as conn:
            conn.execute(s.update().where(s.c.id == int(alert_id)).values(**values))

    def alert_counts(self, states: Sequence[str] = ("pending", "sent", "abandoned")) -> dict[str, int]:
        s = copilot_alerts_sent
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(s.c.state, sa.func.count()).where(s.c.state.in_(list(states)))
                                .group_by(s.c.state)).all()
        return {str(state): int(n) for state, n in rows}
