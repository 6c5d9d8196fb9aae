"""resources/webhooks.py: bodies, signatures, and a delivery that retries with backoff inside its deadline,
never raises and never names the URL."""

from __future__ import annotations

import json

import httpx
import pytest

from copilot_assets.alerts import Alert, nightly_failed_alerts, ping_alert, status_alert, targets_for
from resources.secrets import Secret
from resources.validation import InvalidInput
from resources.webhooks import (
    SIGNATURE_HEADER,
    WebhookTarget,
    deliver,
    request_for,
    sign,
    url_host,
    validate_url,
    verify_signature,
)

URL = "https://hooks.example.com/services/T000/B000/SECRETPATH"
GENERIC = WebhookTarget(id=1, team_id=None, format="generic", url=Secret(URL), secret=Secret("s3cret"))
SLACK = WebhookTarget(id=2, team_id=7, format="slack", url=Secret(URL))
MESSAGE = {"id": "status:1", "kind": "status_changed", "team": "acme", "text": "hello"}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s


def _transport(statuses: list[int | Exception], seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = statuses.pop(0) if statuses else 200
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer)

    return httpx.MockTransport(handler)


def test_generic_body_is_signed_and_slack_is_text_only():
    body, headers = request_for(GENERIC, MESSAGE)
    assert json.loads(body) == MESSAGE
    assert headers[SIGNATURE_HEADER] == sign("s3cret", body) and verify_signature("s3cret", body,
                                                                                  headers[SIGNATURE_HEADER])
    assert not verify_signature("other", body, headers[SIGNATURE_HEADER])
    assert not verify_signature("s3cret", body + b" ", headers[SIGNATURE_HEADER])
    assert not verify_signature("s3cret", body, None)
    body, headers = request_for(SLACK, MESSAGE)
    assert json.loads(body) == {"text": "hello"} and SIGNATURE_HEADER not in headers


@pytest.mark.parametrize(("statuses", "ok", "attempts", "error"), [
    ([200], True, 1, None),
    ([500, 429, 204], True, 3, None),
    ([503, 503, 503], False, 3, "HTTP 503"),
    ([404], False, 1, "HTTP 404"),
    ([httpx.ConnectError("refused to " + URL), 200], True, 2, None),
    ([httpx.ReadTimeout("timed out"), httpx.ReadTimeout("timed out"), httpx.ReadTimeout("x")], False, 3,
     "ReadTimeout"),
])
def test_delivery_retries_transient_answers_with_backoff_and_never_raises(statuses, ok, attempts, error):
    clock, seen = Clock(), []
    d = deliver(GENERIC, MESSAGE, max_attempts=3, backoff_base_seconds=1.0, message_deadline_seconds=60,
                timeout_seconds=1.0, sleep=clock.sleep, clock=clock, transport=_transport(list(statuses), seen))
    assert (d.ok, d.attempts, d.error) == (ok, attempts, error)
    assert len(seen) == attempts and all(r.url == URL for r in seen)
    assert len(clock.sleeps) == attempts - 1
    assert all(0 <= s <= 1.0 * 2 ** i for i, s in enumerate(clock.sleeps))  # full jitter, doubling
    assert "SECRETPATH" not in repr(d)


def test_delivery_stops_at_its_deadline():
    clock, seen = Clock(), []
    d = deliver(GENERIC, MESSAGE, max_attempts=10, backoff_base_seconds=4.0, message_deadline_seconds=10,
                timeout_seconds=5.0, sleep=clock.sleep, clock=clock, transport=_transport([500] * 10, seen))
    assert not d.ok and d.attempts < 10
    assert clock.now + 5.0 <= 10  # it never sleeps into an attempt that could not end within the deadline


def test_targets_never_print_their_url_path_or_secret():
    assert "SECRETPATH" not in repr(GENERIC) and "s3cret" not in repr(GENERIC)
    assert GENERIC.describe() == "https://hooks.example.com/…" == url_host(URL)
    assert url_host("https://user:pw@host.example/x") == "https://host.example/…"
    with pytest.raises(InvalidInput):
        validate_url("ftp://host/x")
    with pytest.raises(InvalidInput):
        validate_url("https:///nohost")
    assert validate_url(f" {URL}\n").reveal() == URL


def test_routing_and_messages():
    team_target = WebhookTarget(id=3, team_id=7, format="slack", url=Secret(URL))
    other_team = WebhookTarget(id=4, team_id=8, format="slack", url=Secret(URL))
    targets = [GENERIC, team_target, other_team]
    alert = Alert(key="k", kind="status_changed", text="t", team_id=7, team="acme")
    assert targets_for(alert, targets) == (1, 3)
    assert targets_for(Alert(key="k", kind="nightly_failed", text="t", audience="global"), targets) == (1,)
    assert targets_for(Alert(key="k", kind="nightly_failed", text="t", team_id=7, audience="team"), targets) == (3,)
    msg = status_alert({"id": 5, "team_id": 7, "slug": "acme", "from_status": "connected", "at": None,
                        "to_status": "insufficient_licenses", "reason": "app_permission_missing",
                        "event": "sync_failed"})
    assert msg.key == "status:5" and "Organization Copilot metrics: read" in msg.text
    assert status_alert({"id": 6, "team_id": 7, "slug": "acme", "from_status": "token_revoked",
                         "to_status": "connected", "reason": "bad_credentials", "at": None}).fields["reason"] is None
    runs = nightly_failed_alerts("abcdef0123", "2026-12-01", [
        {"team": "acme", "error_kind": "unavailable", "http_status": 500},
        {"team": "acme", "error_kind": "unavailable", "http_status": 500},
        {"team": "globex", "error_kind": "rate_limited", "http_status": 429}],
        {"acme": (7, "connected", None), "globex": (8, "insufficient_licenses", "repeated_failures")})
    assert [a.key for a in runs] == ["nightly_failed:abcdef0123", "nightly_failed:abcdef0123:7",
                                     "nightly_failed:abcdef0123:8"]
    assert "acme: unavailable (HTTP 500) on 2 team-day(s)" in runs[0].text and "globex" in runs[0].text
    assert "globex" not in runs[1].text and "acme" not in runs[2].text
    assert "3 nightly syncs in a row failed" in runs[2].text  # the team's own status hint
    assert ping_alert("acme").message()["kind"] == "test"
