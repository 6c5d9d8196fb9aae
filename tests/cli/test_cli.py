"""`copilot-flow` CLI: team admin, flags, bad input (exit 2, one clear line, nothing written), secrets."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from store_support import active_token, credential_rows

from copilot_flow.cli import main as cli
from resources import tables
from simulators import github as github_sim
from simulators.serve import start_in_thread

CANARY = "ghp_CANARY0123456789abcdefCANARY"


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def gh(monkeypatch):
    app = github_sim.create_app({"orgs": {"acme": {"tokens": [CANARY], "seats": 12},
                                          "tiny": {"tokens": ["tiny-token"], "seats": 3}}})
    handle = start_in_thread(app)
    monkeypatch.setenv("COPILOT_FLOW_GITHUB_API_URL", handle.url)
    yield app.state.sim
    handle.stop()


def run(runner, *args, env=None, input=None):
    return runner.invoke(cli, list(args), env=env, input=input, catch_exceptions=False)


def store():
    from resources.store import Store

    return Store()


def team_count() -> int:
    return store().count_rows("teams")


def test_db_upgrade_and_team_lifecycle(runner, gh):
    r = run(runner, "db", "upgrade")
    assert r.exit_code == 0 and "revision 0004" in r.output
    r = run(runner, "teams", "add", "acme-web", "--org", "acme", "--name", "Acme Web")
    assert r.exit_code == 0, r.output
    r = run(runner, "teams", "connect", "acme-web", "--token-env", "GH_TOKEN", env={"GH_TOKEN": CANARY})
    assert r.exit_code == 0, r.output
    assert "verified (12 Copilot seats)" in r.output and CANARY not in r.output
    t = store().get_team("acme-web")
    assert (t.copilot_status, t.onboarding_pipeline_status) == ("connected", "syncing_copilot")
    r = run(runner, "teams", "list")
    lines = r.output.splitlines()
    assert lines[0].split()[:4] == ["slug", "org", "status", "reason"]
    assert lines[2].split()[:3] == ["acme-web", "acme", "connected"]
    r = run(runner, "teams", "status", "acme-web")
    assert "status:    connected" in r.output and "connect" in r.output
    assert "credential: token, stored " in r.output
    r = run(runner, "teams", "disconnect", "acme-web")
    assert r.exit_code == 0
    assert store().get_team("acme-web").copilot_status == "disabled"
    events = store().status_events(store().get_team("acme-web").id)
    assert [e["to_status"] for e in events] == ["disabled", "connected"]
    assert all(e["actor"] == "cli" for e in events)


def test_token_from_stdin(runner, gh):
    run(runner, "teams", "add", "acme", "--org", "acme", "--name", "Acme")
    r = run(runner, "teams", "connect", "acme", input=CANARY + "\n")
    assert r.exit_code == 0, r.output
    assert active_token(store(), store().get_team("acme").id).reveal() == CANARY


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["teams", "add", "a,b", "--org", "acme", "--name", "X"], None, "contains ','"),
        (["teams", "add", "a|b", "--org", "acme", "--name", "X"], None, "contains '|'"),
        (["teams", "add", "a b", "--org", "acme", "--name", "X"], None, "contains ' '"),
        (["teams", "add", "ok", "--org", "bad org", "--name", "X"], None, "GitHub organization"),
        (["teams", "connect", "nope", "--token-env", "T"], {"T": "x"}, "unknown team 'nope'"),
        (["teams", "connect", "acme", "--token-env", "T"], {"T": "   "}, "token is empty"),
        (["teams", "connect", "acme", "--token-env", "MISSING_VAR"], None, "MISSING_VAR is not set"),
        (["teams", "disconnect", "nope"], None, "unknown team"),
        (["flags", "set", "integration_copilot_enabled", "maybe"], None, "must be 'on' or 'off'"),
        (["flags", "set", "no_such_flag", "on"], None, "unknown flag"),
        (["flags", "set", "integration_copilot_enabled", "on", "--team", "ghost"], None, "unknown team"),
    ],
)
def test_bad_input_is_one_clear_line_exit_2_nothing_written(runner, gh, args, env, message):
    run(runner, "teams", "add", "acme", "--org", "acme", "--name", "Acme")
    before = team_count()
    r = runner.invoke(cli, args, env=env)
    assert r.exit_code == 2, r.output
    err_lines = [line for line in r.output.splitlines() if line.strip()]
    assert len(err_lines) == 1 and err_lines[0].startswith("error: ") and message in err_lines[0]
    assert team_count() == before
    assert credential_rows(store(), store().get_team("acme").id) == []
    assert store().flag_values("integration_copilot_enabled") == (None, {})


def test_duplicate_slug(runner, gh):
    run(runner, "teams", "add", "acme", "--org", "acme", "--name", "Acme")
    r = runner.invoke(cli, ["teams", "add", "acme", "--org", "other", "--name", "Other"])
    assert r.exit_code == 2 and "already exists" in r.output
    assert store().get_team("acme").github_org == "acme"


def test_connect_refuses_a_token_without_access(runner, gh):
    run(runner, "teams", "add", "acme", "--org", "acme", "--name", "Acme")
    r = runner.invoke(cli, ["teams", "connect", "acme", "--token-env", "T"], env={"T": "ghp_wrong"})
    assert r.exit_code == 2 and "401" in r.output and "revoked, expired or mistyped" in r.output
    gh.set_org("acme", {"tokens": [CANARY], "faults": [{"mode": "403_permissions", "endpoint": "billing"}]})
    r = runner.invoke(cli, ["teams", "connect", "acme", "--token-env", "T"], env={"T": CANARY})
    assert r.exit_code == 2 and "must be an owner of the organization" in r.output
    t = store().get_team("acme")
    assert t.copilot_status == "disabled" and credential_rows(store(), t.id) == []


def test_flags(runner, gh):
    run(runner, "teams", "add", "acme", "--org", "acme", "--name", "Acme")
    assert run(runner, "flags", "set", "integration_copilot_enabled", "on").exit_code == 0
    assert run(runner, "flags", "set", "integration_copilot_enabled", "off", "--team", "acme").exit_code == 0
    t = store().get_team("acme")
    assert store().flag_values("integration_copilot_enabled") == (True, {t.id: False})
    r = run(runner, "flags", "show")
    assert "acme: off (team override off)" in r.output


def test_token_never_in_logs_reprs_or_db(runner, gh, caplog):
    caplog.set_level(logging.DEBUG)
    run(runner, "teams", "add", "acme", "--org", "acme", "--name", "Acme")
    r = run(runner, "teams", "connect", "acme", "--token-env", "T", env={"T": CANARY})
    assert r.exit_code == 0
    out = r.output + run(runner, "teams", "list").output + run(runner, "teams", "status", "acme").output
    assert CANARY not in out
    assert all(CANARY not in rec.getMessage() for rec in caplog.records)
    s = store()
    token = active_token(s, s.get_team("acme").id)
    assert CANARY not in repr(token) and CANARY not in str(token) and CANARY not in f"{token}"
    assert CANARY not in repr(s)
    with s.engine.connect() as conn:
        for table in tables.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                assert all(CANARY not in str(v) for v in row), table.name
    # the simulator saw the token only as a hash prefix
    assert all(CANARY not in str(req) for req in gh.request_log())


def test_connect_tells_an_org_problem_with_its_fix_and_stores_the_token(runner, gh):
    """The token is fine but the org's usage-metrics policy is off: told at connect time, with the fix
    naming the team; the team waits in insufficient_licenses and the license probe reconnects it."""
    gh.set_org("tiny", {"tokens": ["tiny-token"], "seats": 3, "metrics_policy": False})
    run(runner, "teams", "add", "tiny", "--org", "tiny", "--name", "Tiny")
    r = run(runner, "teams", "connect", "tiny", "--token-env", "T", env={"T": "tiny-token"})
    assert r.exit_code == 0, r.output
    assert "verified (3 Copilot seats)" in r.output
    assert "warning: GitHub refuses the Copilot usage reports of org 'tiny' (policy_disabled)" in r.output
    assert "fix: " in r.output and "Settings → Copilot → Policies" in r.output
    t = store().get_team("tiny")
    assert (t.copilot_status, t.copilot_status_reason, t.onboarding_pipeline_status) == (
        "insufficient_licenses", "policy_disabled", "syncing_copilot")
    assert active_token(store(), t.id).reveal() == "tiny-token"
    status = run(runner, "teams", "status", "tiny").output
    assert "status:    insufficient_licenses (policy_disabled)" in status
    assert "SLUG" not in status


def test_every_hint_names_the_team(runner, gh):
    run(runner, "teams", "add", "acme-web", "--org", "acme", "--name", "Acme Web")
    out = run(runner, "teams", "status", "acme-web").output
    assert "copilot-flow teams connect acme-web --token-env VAR" in out and "SLUG" not in out


def test_connect_on_postgresql_without_a_key_says_to_set_the_key(runner, gh, pg_schema_url, monkeypatch):
    monkeypatch.setenv("COPILOT_FLOW_DATABASE_URL", pg_schema_url)
    monkeypatch.delenv("COPILOT_FLOW_SECRET_KEY")
    assert run(runner, "teams", "add", "acme", "--org", "acme", "--name", "Acme").exit_code == 0
    r = runner.invoke(cli, ["teams", "connect", "acme", "--token-env", "T"], env={"T": CANARY})
    assert r.exit_code == 2
    [line] = [x for x in r.output.splitlines() if x.strip()]
    assert line.startswith("error: no encryption key") and "set COPILOT_FLOW_SECRET_KEY" in line
    assert "db upgrade" not in line
    assert credential_rows(store(), store().get_team("acme").id) == []


def test_an_undecryptable_token_names_the_key_and_the_fix(runner, gh, monkeypatch):
    from cryptography.fernet import Fernet

    from resources.secrets import CredentialUndecryptable

    run(runner, "teams", "add", "acme", "--org", "acme", "--name", "Acme")
    assert run(runner, "teams", "connect", "acme", "--token-env", "T", env={"T": CANARY}).exit_code == 0
    monkeypatch.setenv("COPILOT_FLOW_SECRET_KEY", Fernet.generate_key().decode())
    with pytest.raises(CredentialUndecryptable) as err:
        active_token(store(), store().get_team("acme").id)
    text = str(err.value)
    assert "COPILOT_FLOW_SECRET_KEY" in text and "teams connect" in text and CANARY not in text


def test_connect_follows_githubs_redirects(runner, gh):
    """GitHub documents that any API request may be redirected: connect follows them (same host, with
    the token) for both the billing read and the report check."""
    gh.set_org("acme", {"tokens": [CANARY], "seats": 12,
                        "faults": [{"mode": "redirect", "endpoint": "billing", "times": 1},
                                   {"mode": "redirect", "endpoint": "organization-1-day", "times": 1, "status": 307}]})
    run(runner, "teams", "add", "acme", "--org", "acme", "--name", "Acme")
    r = run(runner, "teams", "connect", "acme", "--token-env", "T", env={"T": CANARY})
    assert r.exit_code == 0, r.output
    assert "verified (12 Copilot seats)" in r.output and "warning" not in r.output
    log = [(q["endpoint_kind"], q["status"]) for q in gh.request_log() if q["org"] == "acme"]
    assert ("billing", 301) in log and ("billing", 200) in log
    assert ("organization-1-day", 307) in log and ("organization-1-day", 200) in log
    assert store().get_team("acme").copilot_status == "connected"


def test_teams_budget_sets_shows_and_clears_the_monthly_ai_credit_budget(runner):
    from datetime import UTC, datetime, timedelta

    assert run(runner, "teams", "add", "acme", "--org", "acme", "--name", "Acme").exit_code == 0
    s = store()
    team = s.get_team("acme")
    today = datetime.now(UTC).date()
    user = {"user_login": None, "user_initiated_interaction_count": 1, "code_generation_activity_count": 1,
            "code_acceptance_activity_count": 0, "loc_suggested_to_add_sum": 0, "loc_added_sum": 0}
    s.replace_team_day(team.id, today, {"copilot_user_daily": [{**user, "user_id": 1, "ai_credits_used": 30.0},
                                                              {**user, "user_id": 2, "ai_credits_used": None}]})
    last_month = today.replace(day=1) - timedelta(days=1)  # another month: not in the month to date
    s.replace_team_day(team.id, last_month, {"copilot_user_daily": [{**user, "user_id": 1, "ai_credits_used": 99.0}]})

    r = run(runner, "teams", "budget", "acme")
    assert r.exit_code == 0 and "budget:    none" in r.output and "used:      30.00" in r.output
    r = run(runner, "teams", "budget", "acme", "--ai-credits", "120")
    assert r.exit_code == 0, r.output
    assert "120.00 AI credits per month" in r.output and "share:     25.0% of the budget" in r.output
    assert store().get_team("acme").ai_credit_monthly_budget == 120.0
    r = run(runner, "teams", "budget", "acme", "--ai-credits", "20")
    assert "150.0% of the budget  (over budget)" in r.output
    for bad, message in ((["--ai-credits", "-5"], "must be a number >= 0"),
                         (["--ai-credits", "5", "--clear"], "exclude each other")):
        r = runner.invoke(cli, ["teams", "budget", "acme", *bad])
        assert r.exit_code == 2 and message in r.output
    assert store().get_team("acme").ai_credit_monthly_budget == 20.0  # nothing written by bad input
    r = run(runner, "teams", "budget", "acme", "--clear")
    assert r.exit_code == 0 and "budget:    none" in r.output
    assert store().get_team("acme").ai_credit_monthly_budget is None
