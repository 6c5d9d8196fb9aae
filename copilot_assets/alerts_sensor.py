"""``copilot_alerts_sensor``: finds what to tell (``copilot_assets/alerts.py``) and delivers it to the webhook
targets (``resources/webhooks.py``), apart from every sync — a webhook that is down never blocks or fails a
sync, and never fails the sensor.

Each tick: the status changes since its cursor (``copilot_status_events``), the team-days recorded as
confirmed empty and the failed nightly runs since the previous tick (an hour of overlap; the first tick
looks back ``AlertsResource.catch_up_hours``) become alerts; each is recorded once per (dedup key, target)
in ``copilot_alerts_sent`` before anything is sent, so a re-evaluated tick never sends it again. Then the
pending alerts are delivered, oldest first, within ``tick_budget_seconds``: a failed delivery (after its
retries with backoff) is logged and retried on the next tick, the target's later alerts wait with it, and an
alert still undelivered after ``give_up_after_hours`` is abandoned (logged as an error).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from copilot_assets.alerts import Alert, confirmed_empty_alerts, nightly_failed_alerts, raised, status_alert
from copilot_assets.failure_sensor import run_failures
from copilot_assets.outcomes import NIGHT_TAG, RUN_TRIGGER_TAG
from resources import queries
from resources.app_store import StoreResource
from resources.secrets import SecretKeyMissing
from resources.store import Store, UnknownTeam
from resources.sync_policy import SyncPolicyResource
from resources.webhooks import AlertsResource, WebhookTarget

ALERTS_INTERVAL_SECONDS = 60  # how often the daemon evaluates the alerts sensor
OVERLAP = timedelta(hours=1)  # re-read the last hour each tick: the dedup keys keep it exactly-once
RUNS_PER_TICK = 100


@dataclass(frozen=True)
class AlertsCursor:
    event_id: int  # the last status event looked at
    events_since: datetime  # status events before this are never told (the first tick's catch-up)
    days_since: datetime  # confirmed-empty team-days recorded since
    runs_since: datetime  # failed nightly runs updated since

    @classmethod
    def parse(cls, raw: str | None, now: datetime, catch_up: timedelta) -> AlertsCursor:
        if raw:
            d = json.loads(raw)
            return cls(int(d["event_id"]), datetime.fromisoformat(d["events_since"]),
                       datetime.fromisoformat(d["days_since"]), datetime.fromisoformat(d["runs_since"]))
        start = now - catch_up
        return cls(0, start, start, start)

    def dump(self) -> str:
        return json.dumps({"event_id": self.event_id, "events_since": self.events_since.isoformat(),
                           "days_since": self.days_since.isoformat(), "runs_since": self.runs_since.isoformat()})


def _failed_nightly_alerts(store: Store, instance: dg.DagsterInstance, since: datetime) -> list[Alert]:
    records = instance.get_run_records(
        filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE], tags={RUN_TRIGGER_TAG: "nightly"},
                              updated_after=since),
        order_by="update_timestamp", ascending=True, limit=RUNS_PER_TICK,
    )
    out: list[Alert] = []
    for rec in records:
        run = rec.dagster_run
        failures = run_failures(instance, run)
        teams: dict[str, tuple[int, str, str | None]] = {}
        for slug in sorted({str(f.get("team")) for f in failures}):
            try:
                t = store.get_team(slug)
            except UnknownTeam:
                continue
            teams[slug] = (t.id, t.copilot_status, t.copilot_status_reason)
        out.extend(nightly_failed_alerts(run.run_id, run.tags.get(NIGHT_TAG), failures, teams))
    return out


def collect_alerts(store: Store, instance: dg.DagsterInstance, cursor: AlertsCursor, now: datetime,
                   horizon_days: int) -> tuple[list[Alert], AlertsCursor]:
    """What happened since the cursor, as alerts, and the cursor after it."""
    with store.engine.connect() as conn:
        # every event up to the newest one now is looked at (those before the catch-up window are never told);
        # one written meanwhile waits for the next tick
        last_event = max(cursor.event_id, queries.last_status_event_id_all_teams(conn))
        changes = queries.status_changes_all_teams(conn, cursor.event_id, cursor.events_since, up_to_id=last_event)
        empty = queries.confirmed_empty_all_teams(conn, cursor.days_since)
    found = [status_alert(r) for r in changes]
    found += confirmed_empty_alerts(empty, horizon_days)
    found += _failed_nightly_alerts(store, instance, cursor.runs_since)
    nxt = AlertsCursor(last_event, cursor.events_since, max(cursor.days_since, now - OVERLAP),
                       max(cursor.runs_since, now - OVERLAP))
    return found, nxt


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    waiting: int = 0
    abandoned: int = 0

    def __str__(self) -> str:
        return (f"{self.sent} sent, {self.failed} failed (retried next tick), {self.waiting} waiting for the next "
                f"tick, {self.abandoned} abandoned")


def deliver_pending(store: Store, alerts: AlertsResource, targets: list[WebhookTarget], log: Any,
                    *, sleep: Callable[[float], None] = time.sleep) -> DeliveryReport:
    """Deliver the pending alerts, oldest first, within the tick budget. Never raises for a delivery."""
    by_id = {t.id: t for t in targets}
    report = DeliveryReport()
    failing: set[int] = set()  # targets that failed this tick: their later alerts wait (order kept)
    start = time.monotonic()
    give_up = datetime.now(UTC) - timedelta(hours=alerts.give_up_after_hours)
    for p in store.pending_alerts():
        target = by_id.get(p.target_id)
        if target is None:
            continue
        if p.created_at < give_up:
            store.mark_alert(p.id, sent=False, attempts=0, error="undelivered too long", abandon=True)
            log.error(f"alerts: {p.dedup_key} to target {target.id} ({target.describe()}) abandoned: undelivered "
                      f"for {alerts.give_up_after_hours:g} h")
            report.abandoned += 1
            continue
        if target.id in failing or time.monotonic() - start > alerts.tick_budget_seconds:
            report.waiting += 1
            continue
        d = alerts.deliver(target, p.message, sleep=sleep)
        store.mark_alert(p.id, sent=d.ok, attempts=d.attempts, error=d.error)
        if d.ok:
            report.sent += 1
        else:
            failing.add(target.id)
            report.failed += 1
            log.warning(f"alerts: {p.dedup_key} to target {target.id} ({target.describe()}) not delivered after "
                        f"{d.attempts} attempt(s): {d.error}; retried on the next tick")
    return report


@dg.sensor(
    name="copilot_alerts_sensor",
    minimum_interval_seconds=ALERTS_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts to the alert webhooks (copilot-flow alerts add) when a team changes status, a team-day "
    "leaves the gap horizon without a report, or a nightly run fails: one message per change, never repeated, "
    "with the runbook hint; a webhook that is down is retried on later ticks and never affects a sync.",
)
def copilot_alerts_sensor(context: dg.SensorEvaluationContext, store: StoreResource, alerts: AlertsResource,
                          sync_policy: SyncPolicyResource):
    s = store.get()
    now = datetime.now(UTC)
    cursor = AlertsCursor.parse(context.cursor, now, timedelta(hours=alerts.catch_up_hours))
    try:
        found, nxt = collect_alerts(s, context.instance, cursor, now, sync_policy.gap_horizon_days)
        targets = s.alert_targets()
        added = s.record_alerts(raised(found, targets, now))
    except SecretKeyMissing as exc:  # the key cannot decrypt the targets: nothing can be sent, keep the cursor
        context.log.error(f"alerts: the alert targets cannot be read: {exc}")
        return dg.SkipReason("alert targets cannot be decrypted (COPILOT_FLOW_SECRET_KEY)")
    except Exception as exc:  # never let alerting fail: log it, keep the cursor, try again next tick
        context.log.error(f"alerts: could not collect the alerts: {type(exc).__name__}: {exc}")
        return dg.SkipReason(f"could not collect the alerts ({type(exc).__name__})")
    report = deliver_pending(s, alerts, targets, context.log) if targets else DeliveryReport()
    summary = (f"{len(found)} alert(s) found, {added} new for {len(targets)} target(s); {report}"
               if targets else f"{len(found)} alert(s) found; no alert target (copilot-flow alerts add)")
    context.log.info(f"alerts: {summary}")
    return dg.SensorResult(cursor=nxt.dump(), skip_reason=summary)


__all__ = [
    "ALERTS_INTERVAL_SECONDS",
    "AlertsCursor",
    "DeliveryReport",
    "collect_alerts",
    "copilot_alerts_sensor",
    "deliver_pending",
]
