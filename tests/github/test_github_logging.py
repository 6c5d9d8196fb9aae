"""Logs never carry a signed URL or the token: httpx logs every request URL at INFO and httpcore traces
requests and response headers (Location, Link) at DEBUG; resources.github filters both."""

from __future__ import annotations

import logging
import re

import pytest

from resources.github import HTTP_LOGGERS, Report, install_log_filter, scrub_text
from tests.github.conftest import DAY, TOKEN

pytestmark = pytest.mark.slow

SIGNED = re.compile(r"[?&;](sig|se|st|sv|sp)=")


def scan(records: list[logging.LogRecord]) -> list[str]:
    hits = []
    for rec in records:
        text = rec.getMessage()
        if "sig=" in text or SIGNED.search(text) or TOKEN in text or "Bearer " + TOKEN[:8] in text:
            hits.append(f"{rec.name}: {text}")
    return hits


def test_debug_logging_of_a_real_download_carries_no_signed_url_or_token(sim, make_client, caplog):
    _, state = sim
    # sharded users report, a download redirected to another host (its Location is a signed URL), a
    # redirected envelope (Location with ?day=), a 28-day report and paginated seats (Link with ?page=)
    state.set_org("acme", tokens=[TOKEN], seats=150, shards=2, faults=[
        {"mode": "redirect_other_host", "endpoint": "download", "times": 1},
        {"mode": "redirect", "endpoint": "users-1-day", "times": 1},
    ])
    caplog.set_level(logging.DEBUG)
    c = make_client()
    rep = c.report_day("users-1-day", DAY)
    assert isinstance(rep, Report) and rep.records
    assert c.report_latest_28("organization-28-day")
    assert len(c.seats()) == 150
    assert scan(caplog.records) == []
    messages = [r.getMessage() for r in caplog.records]
    # the lines are kept, only their queries dropped
    requests = [m for m in messages if m.startswith("HTTP Request: GET ")]
    assert any("/_downloads/" in m and m.endswith('"HTTP/1.1 307 Temporary Redirect"') for m in requests)
    assert any("/_dl/" in m and "localhost" in m and m.endswith('"HTTP/1.1 200 OK"') for m in requests)
    assert any(m.startswith(f"HTTP Request: GET {sim[0]}/orgs/acme/copilot/metrics/reports/users-1-day ")
               for m in requests)
    assert any(r.name.startswith("httpcore") and r.levelno == logging.DEBUG for r in caplog.records)
    assert any("location" in m.lower() and "/_dl/" in m for m in messages)  # response headers were traced


def test_filter_scrubs_urls_in_args_and_keeps_the_rest_of_the_line(caplog):
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("httpx")
    url = "https://copilot-reports.github.com/x/part-0.ndjson?sv=1&st=2&se=3&sp=r&sig=abc%2Fdef"
    log.info('HTTP Request: %s %s "%s %d %s"', "GET", url, "HTTP/1.1", 200, "OK")
    logging.getLogger("httpcore.http11").debug(
        "receive_response_headers.complete return_value=(b'HTTP/1.1', 302, [(b'Location', b'%s')])", url)
    logging.getLogger("httpcore.connection").debug("Authorization: Bearer %s", TOKEN)
    msgs = [r.getMessage() for r in caplog.records]
    assert msgs[0] == 'HTTP Request: GET https://copilot-reports.github.com/x/part-0.ndjson "HTTP/1.1 200 OK"'
    assert msgs[1] == ("receive_response_headers.complete return_value=(b'HTTP/1.1', 302, "
                       "[(b'Location', b'https://copilot-reports.github.com/x/part-0.ndjson')])")
    assert msgs[2] == "Authorization: Bearer [redacted]"


def test_filter_installed_once_on_every_http_logger():
    install_log_filter()
    install_log_filter()
    for name in HTTP_LOGGERS:
        assert len(logging.getLogger(name).filters) == 1, name


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("GET /orgs/a/copilot/metrics/reports/users-1-day?day=2026-11-15 ok",
         "GET /orgs/a/copilot/metrics/reports/users-1-day ok"),
        ("<https://h/x?page=2>; rel=\"next\"", "<https://h/x>; rel=\"next\""),
        ("sig=abc alone", " alone"),
        ("is it ready? yes=1", "is it ready? yes=1"),
        ("token ghp_abcdefghijklmnopqrstuvwx", "token [redacted]"),
    ],
)
def test_scrub_text(text, clean):
    assert scrub_text(text) == clean
