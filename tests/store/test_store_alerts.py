"""Alert targets and raised alerts in the app store, on SQLite and PostgreSQL: encrypted at rest, recorded
once per (dedup key, target), delivered or kept pending; and the cross-team reads the alerts sensor uses."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from copilot_assets import status as sm
from copilot_assets.team_health import apply_event
from resources import queries, tables
from resources.secrets import Secret
from resources.store import RaisedAlert

URL = "https://hooks.example.com/services/T1/B1/SECRETPATH"


def test_targets_are_encrypted_and_routed(store):
    team = store.add_team("acme", name="Acme", github_org="acme")
    other = store.add_team("beta", name="Beta", github_org="beta")
    g = store.add_alert_target(format="generic", url=Secret(URL), secret=Secret("sig-secret"))
    a = store.add_alert_target(format="slack", url=Secret(URL), team_id=team.id)
    b = store.add_alert_target(format="slack", url=Secret(URL), team_id=other.id)
    assert [t.id for t in store.alert_targets()] == [g, a, b]
    assert [t.id for t in store.alert_targets(team_id=team.id)] == [g, a]
    assert [t.id for t in store.alert_targets(team_id=team.id, include_global=False)] == [a]
    [generic] = [t for t in store.alert_targets() if t.id == g]
    assert generic.url.reveal() == URL and generic.secret.reveal() == "sig-secret"
    with store.engine.connect() as conn:
        blob = repr(conn.execute(sa.select(tables.alert_targets)).all())
    assert "SECRETPATH" not in blob and "sig-secret" not in blob
    assert store.remove_alert_target(b) and not store.remove_alert_target(b)


def test_alerts_are_recorded_once_per_target_and_kept_until_sent(store):
    g = store.add_alert_target(format="slack", url=Secret(URL))
    h = store.add_alert_target(format="slack", url=Secret(URL + "2"))
    alert = RaisedAlert(key="status:1", kind="status_changed", team_id=None, message={"text": "hi"},
                        target_ids=(g, h))
    assert store.record_alerts([alert]) == 2
    assert store.record_alerts([alert, alert]) == 0  # a re-evaluated tick: nothing new
    first, second = store.pending_alerts()
    assert (first.message, first.attempts) == ({"text": "hi"}, 0)
    store.mark_alert(first.id, sent=True, attempts=2)
    store.mark_alert(second.id, sent=False, attempts=3, error="HTTP 503")
    store.mark_alert(second.id, sent=False, attempts=3, error="ConnectError")
    assert [p.id for p in store.pending_alerts()] == [second.id]
    assert store.pending_alerts()[0].attempts == 6
    assert store.alert_counts() == {"sent": 1, "pending": 1}
    store.mark_alert(second.id, sent=False, attempts=0, error="too old", abandon=True)
    assert store.pending_alerts() == [] and store.alert_counts() == {"sent": 1, "abandoned": 1}
    assert store.record_alerts([alert]) == 0  # abandoned is never raised again either


def test_the_reads_of_the_alerts_sensor(store):
    team = store.add_team("acme", name="Acme", github_org="acme")
    now = datetime.now(UTC)
    apply_event(store, team, sm.Connected(at=now), actor="test")
    apply_event(store, team, sm.SyncFailed(at=now, run_started_at=now, error_kind="unavailable"), actor="test")
    apply_event(store, team, sm.Disconnected(at=now), actor="test")
    with store.engine.connect() as conn:
        changes = queries.status_changes_all_teams(conn, 0, now - timedelta(minutes=1))
        assert [(c["slug"], c["from_status"], c["to_status"]) for c in changes] == [
            ("acme", "disabled", "connected"), ("acme", "connected", "disabled")]  # a strike is not a change
        assert queries.status_changes_all_teams(conn, changes[0]["id"], now - timedelta(minutes=1)) == changes[1:]
        assert queries.status_changes_all_teams(conn, 0, now + timedelta(minutes=1)) == []
        assert queries.last_status_event_id_all_teams(conn) >= changes[-1]["id"]
    day = date(2026, 10, 1)
    store.record_no_report(team.id, day, "copilot_usage", "organization-1-day", "http_204")
    assert store.confirm_empty_days([team.id], before=day + timedelta(days=1), horizon_days=28) == 1
    with store.engine.connect() as conn:
        [row] = queries.confirmed_empty_all_teams(conn, now - timedelta(minutes=1))
        assert (row["slug"], row["asset"]) == ("acme", "copilot_usage")
        assert queries.confirmed_empty_all_teams(conn, datetime.now(UTC) + timedelta(minutes=1)) == []
