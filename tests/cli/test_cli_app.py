"""`copilot-flow teams connect --app-id --private-key-file`: a GitHub App connection over HTTP against the
simulator (installation found from the org, verified like a token), its bad input (exit 2, one line, nothing
written), and the private key never in clear in the output, the logs or the store."""

from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa
from app_support import APP_ID, INSTALLATION_ID, app_keypair, install_app, key_marker
from click.testing import CliRunner
from store_support import credential_rows

from copilot_flow.cli import main as cli
from resources import tables
from simulators import github as github_sim
from simulators.serve import start_in_thread

JWT_RE = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+")


@pytest.fixture
def gh(monkeypatch):
    app = github_sim.create_app({})
    handle = start_in_thread(app)
    monkeypatch.setenv("COPILOT_FLOW_GITHUB_API_URL", handle.url)
    install_app(app.state.sim, "acme", seats=12)
    yield app.state.sim
    handle.stop()


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "app.pem"
    path.write_text(app_keypair()[0])
    return str(path)


def run(*args, env=None):
    return CliRunner().invoke(cli, list(args), env=env)


def store():
    from resources.store import Store

    return Store()


def test_connect_through_a_github_app_found_from_the_org(gh, key_file, caplog):
    caplog.set_level(logging.DEBUG)
    assert run("teams", "add", "acme", "--org", "acme", "--name", "Acme").exit_code == 0
    r = run("teams", "connect", "acme", "--app-id", str(APP_ID), "--private-key-file", key_file)
    assert r.exit_code == 0, r.output
    assert f"GitHub App {APP_ID} is installed on org acme (installation {INSTALLATION_ID})" in r.output
    assert f"connected through GitHub App {APP_ID} (installation {INSTALLATION_ID})" in r.output
    assert "verified (12 Copilot seats)" in r.output and "warning" not in r.output
    t = store().get_team("acme")
    assert (t.copilot_status, t.onboarding_pipeline_status) == ("connected", "syncing_copilot")
    [row] = credential_rows(store(), t.id)
    assert (row["kind"], row["app_id"], row["installation_id"], row["token_encrypted"]) == (
        "github_app", APP_ID, INSTALLATION_ID, None)
    cred = store().active_credential(t.id)
    assert cred.kind == "github_app" and cred.private_key.reveal().strip() == app_keypair()[0].strip()
    # the key and the installation tokens: nowhere in clear
    secrets = [key_marker(app_keypair()[0]), *gh.issued]
    assert len(secrets) >= 2
    status = run("teams", "status", "acme").output
    assert f"credential: GitHub App {APP_ID} (installation {INSTALLATION_ID}), stored " in status
    out = r.output + status + run("teams", "list").output
    logs = " ".join(rec.getMessage() for rec in caplog.records)
    with store().engine.connect() as conn:
        rows = " ".join(str(tuple(row)) for table in tables.metadata.sorted_tables for row in conn.execute(
            sa.select(table)))
    for secret in secrets:
        assert secret not in out and secret not in logs and secret not in rows
    assert not JWT_RE.search(out + logs + rows)  # no JWT either
    assert all(s not in str(req) for req in gh.request_log() for s in secrets)


def test_connect_with_a_given_installation_and_skip_verify_asks_github_nothing(gh, key_file):
    run("teams", "add", "acme", "--org", "acme", "--name", "Acme")
    gh.clear_requests()
    r = run("teams", "connect", "acme", "--app-id", str(APP_ID), "--private-key-file", key_file,
            "--installation-id", "99", "--skip-verify")
    assert r.exit_code == 0, r.output
    assert "installation 99" in r.output and "not verified (--skip-verify)" in r.output
    assert gh.request_log() == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--app-id", str(APP_ID)], "needs --app-id and --private-key-file"),
        (["--private-key-file", "KEY"], "needs --app-id and --private-key-file"),
        (["--app-id", str(APP_ID), "--private-key-file", "KEY", "--token-env", "T"], "not both"),
        (["--app-id", str(APP_ID), "--private-key-file", "KEY", "--skip-verify"], "needs --installation-id"),
        (["--app-id", str(APP_ID), "--private-key-file", "NOTAKEY"], "is not an unencrypted PEM private key"),
        (["--app-id", "7", "--private-key-file", "KEY"], "rejected the App's JWT"),
        (["--app-id", str(APP_ID), "--private-key-file", "KEY", "--installation-id", "5"], "answered 404"),
        (["--app-id", str(APP_ID), "--private-key-file", "OTHERKEY"], "rejected the App's JWT"),
    ],
)
def test_bad_app_input_is_one_clear_line_and_nothing_written(gh, key_file, tmp_path, extra, message):
    not_a_key = tmp_path / "nope.pem"
    not_a_key.write_text("-----BEGIN NOTHING-----\nxyz\n")
    other = tmp_path / "other.pem"
    other.write_text(app_keypair(1)[0])
    args = [{"KEY": key_file, "NOTAKEY": str(not_a_key), "OTHERKEY": str(other)}.get(a, a) for a in extra]
    run("teams", "add", "acme", "--org", "acme", "--name", "Acme")
    r = run("teams", "connect", "acme", *args, env={"T": "x"})
    assert r.exit_code == 2, r.output
    [line] = [x for x in r.output.splitlines() if x.strip()]
    assert line.startswith("error: ") and message in line, line
    assert key_marker(app_keypair()[0]) not in r.output and key_marker(app_keypair(1)[0]) not in r.output
    t = store().get_team("acme")
    assert t.copilot_status == "disabled" and credential_rows(store(), t.id) == []


def test_an_app_not_installed_on_the_org_is_told_with_the_fix(gh, key_file):
    gh.set_org("acme", tokens=[], seats=12)  # the App is registered, but not installed on acme
    run("teams", "add", "acme", "--org", "acme", "--name", "Acme")
    r = run("teams", "connect", "acme", "--app-id", str(APP_ID), "--private-key-file", key_file)
    assert r.exit_code == 2
    assert f"error: GitHub App {APP_ID} is not installed on org 'acme': an org owner installs it" in r.output
    assert credential_rows(store(), store().get_team("acme").id) == []


def test_an_app_without_the_metrics_permission_is_told_at_connect_with_the_fix(gh, key_file):
    install_app(gh, "acme", seats=12, permissions={"organization_copilot_seat_management": "read"})
    run("teams", "add", "acme", "--org", "acme", "--name", "Acme")
    r = run("teams", "connect", "acme", "--app-id", str(APP_ID), "--private-key-file", key_file)
    assert r.exit_code == 0, r.output
    assert "(app_permission_missing)" in r.output and "Organization Copilot metrics: read" in r.output
    assert "fix: " in r.output and "Review request" in r.output
    t = store().get_team("acme")
    assert (t.copilot_status, t.copilot_status_reason) == ("insufficient_licenses", "app_permission_missing")
    assert [c["kind"] for c in credential_rows(store(), t.id)] == ["github_app"]
