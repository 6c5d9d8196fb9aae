"""copilot_alerts_sensor, ticked as the daemon would, against a local webhook receiver over HTTP: exactly one
signed message per status change (re-evaluated ticks never re-send), Slack and generic bodies, per-team
routing, retries with backoff, an unreachable receiver that leaves the sync untouched and gets the message
once it is back, team-days confirmed empty, failed nightly runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alerts_support import HOOK_PATH, Receiver
from automation_support import Harness, today, token_for

from copilot_flow.local_runs import tick_sensor
from resources import tables
from resources.secrets import Secret
from resources.webhooks import SIGNATURE_HEADER

SECRET = "whsec_test_0123456789abcdef"


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


def add_target(h: Harness, url: str, fmt: str = "generic", team: str | None = None) -> int:
    return h.store.add_alert_target(format=fmt, url=Secret(url), secret=Secret(SECRET) if fmt == "generic" else None,
                                    team_id=h.team(team).id if team else None)


class Alerts:
    """The sensor's ticks with its cursor carried over, like the daemon."""

    def __init__(self, h: Harness) -> None:
        self.h = h
        self.cursor: str | None = None

    def tick(self, *, fresh: bool = False) -> Any:
        data = tick_sensor(self.h.defs, self.h.instance, "copilot_alerts_sensor", cursor=None if fresh else self.cursor)
        self.cursor = data.cursor or self.cursor
        return data


def rows(h: Harness) -> list[dict[str, Any]]:
    with h.store.engine.connect() as conn:
        t = tables.copilot_alerts_sent
        return [dict(r._mapping) for r in conn.execute(sa.select(t).order_by(t.c.id))]


def test_exactly_one_signed_message_per_status_change(h: Harness, receiver: Receiver) -> None:
    add_target(h, receiver.url)
    h.flag(True)
    h.add_connected("acme")
    h.sync_partitions()
    alerts = Alerts(h)
    alerts.tick()
    alerts.tick()
    [connected] = receiver.messages()
    assert (connected["kind"], connected["team"], connected["from_status"], connected["to_status"]) == (
        "status_changed", "acme", "disabled", "connected")

    h.fault("acme", tokens=["a-newer-token-we-do-not-have"])  # revoked in GitHub
    assert not h.nightly_run().success
    alerts.tick()
    alerts.tick()
    alerts.tick(fresh=True)  # a re-evaluated tick without its cursor: nothing is sent again
    msgs = receiver.messages()
    assert [m["kind"] for m in msgs] == ["status_changed", "status_changed", "nightly_failed"]
    revoked = msgs[1]
    assert (revoked["from_status"], revoked["to_status"], revoked["reason"]) == ("connected", "token_revoked",
                                                                                 "bad_credentials")
    assert "copilot-flow teams connect acme --token-env VAR" in revoked["hint"] and revoked["hint"] in revoked["text"]
    assert revoked["text"].startswith("Copilot Data Flow: team acme is now token_revoked (bad_credentials)")
    assert "token_revoked (HTTP 401) on 1 team-day(s)" in msgs[2]["text"] and "acme: " in msgs[2]["text"]

    # every message is signed over its exact body; a tampered body does not verify
    assert len(receiver.received) == 3
    for r in receiver.received:
        assert r.path == HOOK_PATH and r.headers["content-type"] == "application/json"
        assert r.headers[SIGNATURE_HEADER.lower()].startswith("sha256=") and r.signed_by(SECRET)
        assert not r.signed_by("another-secret")
    tampered = receiver.received[1]
    tampered.body = tampered.body.replace(b"token_revoked", b"connected")
    assert not tampered.signed_by(SECRET)
    # no secret in any message
    blob = b" ".join(r.body + repr(r.headers).encode() for r in receiver.received)
    for secret in (token_for("acme"), SECRET, HOOK_PATH, "a-newer-token-we-do-not-have"):
        assert secret.encode() not in blob
    assert {r["state"] for r in rows(h)} == {"sent"} and len(rows(h)) == 3


def test_an_unreachable_receiver_leaves_the_sync_untouched_and_gets_the_message_once_back(h: Harness) -> None:
    down = Receiver()  # not started: its port refuses connections
    add_target(h, down.url)
    h.flag(True)
    h.add_connected("acme")
    h.sync_partitions()
    alerts = Alerts(h)
    data = alerts.tick()  # never raises: the delivery failed, it is kept for the next tick
    assert "1 failed (retried next tick)" in data.skip_message
    [row] = rows(h)
    assert (row["state"], row["attempts"], row["last_error"]) == ("pending", 3, "ConnectError")

    # the sync runs as if no alert existed
    result = h.nightly_run()
    assert result.success
    t = h.team("acme")
    assert (t.copilot_status, t.copilot_consecutive_failures) == ("connected", 0) and t.copilot_last_sync_at
    assert h.store.count_rows("copilot_usage_daily", t.id) == 3

    down.start()  # the receiver is back
    try:
        alerts.tick()
        alerts.tick()
        [msg] = down.messages()
        assert (msg["kind"], msg["to_status"]) == ("status_changed", "connected")
        [row] = rows(h)
        assert (row["state"], row["attempts"], row["last_error"]) == ("sent", 4, None)
    finally:
        down.stop()


def test_retries_with_backoff_within_a_tick_and_no_retry_for_a_4xx(h: Harness, receiver: Receiver) -> None:
    receiver.statuses = [500, 503]  # then 200
    add_target(h, receiver.url)
    h.flag(True)
    h.add_connected("acme")
    Alerts(h).tick()
    assert len(receiver.received) == 3 and len({r.body for r in receiver.received}) == 1
    [row] = rows(h)
    assert (row["state"], row["attempts"]) == ("sent", 3)

    receiver.statuses = [404]
    h.add_connected("globex")
    Alerts(h).tick()
    assert len(receiver.received) == 4  # a 404 is not retried within the tick
    assert (rows(h)[-1]["state"], rows(h)[-1]["last_error"]) == ("pending", "HTTP 404")


def test_slack_format_and_per_team_routing(h: Harness) -> None:
    acme_hook, everyone = Receiver().start(), Receiver().start()
    try:
        h.flag(True)
        h.add_connected("acme")
        h.add_connected("globex")
        add_target(h, acme_hook.url, fmt="slack", team="acme")
        add_target(h, everyone.url)
        h.store.add_team("initech", name="Initech", github_org="initech-org")
        with h.store.engine.begin() as conn:  # the connects happened before the targets: move them into view
            conn.execute(tables.copilot_status_events.update().values(at=datetime.now(UTC)))
        Alerts(h).tick()
        [slack] = acme_hook.messages()
        assert set(slack) == {"text"} and "team acme is now connected" in slack["text"]
        assert SIGNATURE_HEADER.lower() not in acme_hook.received[0].headers  # Slack is not signed
        assert sorted(m["team"] for m in everyone.messages()) == ["acme", "globex"]
    finally:
        acme_hook.stop()
        everyone.stop()


def test_a_team_day_confirmed_empty_is_told_once(h: Harness, receiver: Receiver) -> None:
    add_target(h, receiver.url)
    h.flag(True)
    team = h.add_connected("acme")
    old = today() - timedelta(days=40)
    for asset, report in (("copilot_usage", "organization-1-day"), ("copilot_user_usage", "users-1-day")):
        h.store.record_no_report(team.id, old, asset, report, "http_204")
    assert h.store.confirm_empty_days([team.id], before=today() - timedelta(days=28), horizon_days=28) == 2
    alerts = Alerts(h)
    alerts.tick()
    alerts.tick(fresh=True)
    empty = [m for m in receiver.messages() if m["kind"] == "day_confirmed_empty"]
    assert len(empty) == 1
    [msg] = empty
    assert (msg["team"], msg["day"], msg["assets"]) == ("acme", old.isoformat(), ["copilot_usage",
                                                                                  "copilot_user_usage"])
    assert f"partition {old.isoformat()}|acme" in msg["hint"] and "28-day gap horizon" in msg["text"]


def test_a_failed_nightly_run_tells_each_team_only_about_itself(h: Harness, receiver: Receiver) -> None:
    acme_hook = Receiver().start()
    try:
        h.flag(True)
        h.add_connected("acme")
        h.add_connected("globex")
        h.sync_partitions()
        add_target(h, receiver.url)
        add_target(h, acme_hook.url, team="acme")
        alerts = Alerts(h)
        alerts.tick()
        receiver.received.clear()
        acme_hook.received.clear()
        h.fault("globex", {"mode": "500", "endpoint": "any"})
        assert not h.nightly_run().success
        alerts.tick()
        [run_msg] = [m for m in receiver.messages() if m["kind"] == "nightly_failed"]
        assert set(run_msg["teams"]) == {"globex"} and "globex: unavailable (HTTP 500)" in run_msg["text"]
        assert "tag copilot/team=globex" in run_msg["teams"]["globex"]["hint"]
        assert acme_hook.messages() == []  # acme's webhook never hears about globex
    finally:
        acme_hook.stop()


def test_the_first_tick_looks_back_a_day_only_and_old_pending_alerts_are_abandoned(h: Harness,
                                                                                      receiver: Receiver) -> None:
    add_target(h, receiver.url)
    h.flag(True)
    h.add_connected("acme")
    with h.store.engine.begin() as conn:
        conn.execute(tables.copilot_status_events.update().values(at=datetime.now(UTC) - timedelta(days=2)))
    Alerts(h).tick()
    assert receiver.messages() == []

    down = Receiver()
    add_target(h, down.url, team="acme")
    with h.store.engine.begin() as conn:
        conn.execute(tables.copilot_status_events.update().values(at=datetime.now(UTC)))
    Alerts(h).tick()
    with h.store.engine.begin() as conn:
        conn.execute(tables.copilot_alerts_sent.update().where(tables.copilot_alerts_sent.c.state == "pending")
                     .values(created_at=datetime.now(UTC) - timedelta(hours=25)))
    Alerts(h).tick()
    assert [r["state"] for r in rows(h)] == ["sent", "abandoned"]
