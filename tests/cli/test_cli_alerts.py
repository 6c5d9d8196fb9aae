"""`copilot-flow alerts add/list/remove/test` against a local webhook receiver: the URL and the signing secret
stored encrypted, never printed (the host only), the test message signed; bad input is one line, exit 2."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from alerts_support import HOOK_PATH, Receiver
from click.testing import CliRunner

from copilot_flow.cli import main as cli
from resources import tables

SECRET = "whsec_cli_0123456789abcdef"


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


def run(*args, env=None, input=None):
    return CliRunner().invoke(cli, list(args), env=env, input=input)


def store():
    from resources.store import Store

    return Store()


def test_add_list_test_remove(receiver):
    assert run("teams", "add", "acme", "--org", "acme", "--name", "Acme").exit_code == 0
    r = run("alerts", "add", "--format", "generic", "--url-env", "HOOK", "--secret-env", "SIG",
            env={"HOOK": receiver.url, "SIG": SECRET})
    assert r.exit_code == 0, r.output
    assert "alert target 1 added: generic webhook http://127.0.0.1:" in r.output and "every team" in r.output
    r2 = run("alerts", "add", "--team", "acme", input=receiver.url + "\n")  # slack, URL on stdin
    assert r2.exit_code == 0 and "for team acme" in r2.output
    listing = run("alerts", "list").output
    assert re.search(r"1\s+generic\s+every team", listing) and re.search(r"2\s+slack\s+team acme", listing)
    out = r.output + r2.output + listing

    t = run("alerts", "test", "--team", "acme")
    assert t.exit_code == 0, t.output
    assert t.output.count("delivered (HTTP 200)") == 2
    generic, slack = sorted(receiver.received, key=lambda x: "x-copilotflow-signature" not in x.headers)
    assert generic.signed_by(SECRET) and generic.json()["kind"] == "test" and generic.json()["team"] == "acme"
    assert set(slack.json()) == {"text"} and "test message for team acme" in slack.json()["text"]

    # neither the URL's path nor the secret: not printed, not in the store in clear
    out += t.output
    assert HOOK_PATH not in out and SECRET not in out
    with store().engine.connect() as conn:
        blob = " ".join(str(tuple(row)) for table in tables.metadata.sorted_tables for row in conn.execute(
            sa.select(table)))
    assert HOOK_PATH not in blob and SECRET not in blob and "T0SECRETPATH" not in blob

    assert run("alerts", "remove", "2").exit_code == 0
    assert [t.id for t in store().alert_targets()] == [1]


def test_a_generated_secret_is_shown_once_and_signs(receiver):
    r = run("alerts", "add", "--format", "generic", "--url-env", "HOOK", env={"HOOK": receiver.url})
    assert r.exit_code == 0
    [secret] = re.findall(r"signing secret \(shown once.*\): (\S+)", r.output)
    assert secret not in run("alerts", "list").output
    assert run("alerts", "test").exit_code == 0
    [got] = receiver.received
    assert got.signed_by(secret)


def test_an_unreachable_target_fails_the_test_command_without_naming_its_url():
    down = Receiver()
    run("alerts", "add", "--url-env", "HOOK", env={"HOOK": down.url})
    r = run("alerts", "test")
    assert r.exit_code == 1
    assert "NOT delivered after 3 attempt(s): ConnectError" in r.output and HOOK_PATH not in r.output


@pytest.mark.parametrize(("args", "env", "message"), [
    (["alerts", "add", "--url-env", "NOPE"], None, "NOPE is not set"),
    (["alerts", "add", "--url-env", "HOOK"], {"HOOK": "ftp://x/y"}, "must be an http(s) URL"),
    (["alerts", "add", "--url-env", "HOOK", "--secret-env", "SIG"], {"HOOK": "https://h/x", "SIG": "s"},
     "--secret-env is for --format generic"),
    (["alerts", "add", "--url-env", "HOOK", "--team", "ghost"], {"HOOK": "https://h/x"}, "unknown team"),
    (["alerts", "remove", "99"], None, "unknown alert target 99"),
    (["alerts", "test"], None, "no alert target to test"),
])
def test_bad_alert_input_is_one_line_and_nothing_written(args, env, message):
    r = run(*args, env=env)
    assert r.exit_code == 2, r.output
    [line] = [x for x in r.output.splitlines() if x.strip()]
    assert line.startswith("error: ") and message in line
    assert store().alert_targets() == []
