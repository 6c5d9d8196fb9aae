"""App store on SQLite and PostgreSQL (parametrized by the `store` fixture)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from store_support import active_token, credential_rows

from resources import tables
from resources.flags import COPILOT_FLAG
from resources.secrets import Secret
from resources.store import DuplicateTeam, UnknownTeam
from resources.validation import InvalidInput

HEAD = "0004"


def test_migrations_from_empty_match_the_tables(store):
    assert store.current_revision() == HEAD
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), tables.metadata)
    assert diff == []
    store.upgrade()  # idempotent
    assert store.current_revision() == HEAD


def test_head_revision_is_alembics_head_and_at_head_says_when_to_skip_alembic(store_url):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from resources.store import HEAD_REVISION, MIGRATIONS_DIR, Store

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(cfg).get_heads() == [HEAD_REVISION] == [HEAD]
    s = Store(store_url)
    assert not s.at_head()  # a new database: no alembic_version table
    s.ensure_schema()
    assert s.at_head() and s.current_revision() == HEAD
    s.downgrade("0003")
    assert not s.at_head()
    s.ensure_schema()  # a database one migration behind is upgraded, not skipped
    assert s.current_revision() == HEAD
    s.engine.dispose()


def test_migration_0002_keeps_history_and_derives_day_states(store_url):
    """A store at 0001 with history: 0002 derives each synced team-day's state from what is stored,
    renames the invented licensing reason and keeps every row."""
    from resources.store import Store

    s = Store(store_url)
    s.upgrade("0001")
    now = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
    d1, d2, d3 = date(2026, 11, 17), date(2026, 11, 18), date(2026, 11, 19)
    with s.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO teams (id, slug, name, github_org, copilot_status, copilot_status_reason, "
            "copilot_consecutive_failures, onboarding_pipeline_status, created_at, updated_at) VALUES "
            "(1, 'acme', 'Acme', 'acme', 'insufficient_licenses', 'insufficient_licenses', 0, 'complete', :n, :n)"),
            {"n": now})
        conn.execute(sa.text(
            "INSERT INTO copilot_usage_daily (team_id, day, daily_active_users, source_report, fetched_at) "
            "VALUES (1, :d, 7, 'organization-1-day', :n)"), {"d": d1, "n": now})
        conn.execute(sa.text(
            "INSERT INTO copilot_raw_reports (team_id, day, report, fetched_at, record_count, payload) "
            "VALUES (1, :d, 'users-1-day', :n, 0, '[]')"), {"d": d1, "n": now})
        conn.execute(sa.text(
            "INSERT INTO copilot_user_daily (team_id, day, user_id, user_login) VALUES (1, :d, 5, 'ann')"),
            {"d": d1})
        for day, report in ((d2, "organization-1-day"), (d2, "organization-1-day"), (d3, "users-1-day"),
                            (d1, "organization-1-day")):
            conn.execute(sa.text(
                "INSERT INTO copilot_report_observations (team_id, day, report, outcome, observed_at) "
                "VALUES (1, :d, :r, 'no_report', :n)"), {"d": day, "r": report, "n": now})
    s.upgrade()
    assert s.current_revision() == HEAD
    with s.engine.connect() as conn:
        states = {(r.day if isinstance(r.day, date) else date.fromisoformat(r.day), r.asset):
                  (r.state, r.no_report_checks)
                  for r in conn.execute(sa.text("SELECT day, asset, state, no_report_checks FROM copilot_day_status"))}
        assert conn.execute(sa.text("SELECT user_login FROM copilot_user_daily")).scalar_one() == "ann"
    assert states == {
        (d1, "copilot_usage"): ("data", 0),  # a later 204 never turns stored data into "no report"
        (d1, "copilot_user_usage"): ("data", 0),
        (d2, "copilot_usage"): ("no_report", 2),
        (d3, "copilot_user_usage"): ("no_report", 1),
    }
    team = s.get_team("acme")
    assert (team.copilot_status, team.copilot_status_reason, team.onboarding_error) == \
        ("insufficient_licenses", "no_subscription", None)
    s.engine.dispose()


def test_migration_0003_keeps_rows_and_leaves_the_new_columns_null(store_url):
    """A store at 0002 with history: 0003 adds the 2026 columns and tables, every existing row kept and its new
    columns null ("GitHub did not say / not derived yet"), until a re-derive fills them."""
    from resources.store import Store

    s = Store(store_url)
    s.upgrade("0002")
    now = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
    d = date(2026, 11, 19)
    with s.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO teams (id, slug, name, github_org, copilot_status, copilot_consecutive_failures, "
            "onboarding_pipeline_status, created_at, updated_at) VALUES (1, 'acme', 'Acme', 'acme', 'connected', "
            "0, 'complete', :n, :n)"), {"n": now})
        conn.execute(sa.text(
            "INSERT INTO copilot_usage_daily (team_id, day, daily_active_users, acceptance_rate, source_report, "
            "fetched_at) VALUES (1, :d, 7, 0.3032, 'organization-1-day', :n)"), {"d": d, "n": now})
        conn.execute(sa.text("INSERT INTO copilot_user_daily (team_id, day, user_id, user_login, used_cli) "
                             "VALUES (1, :d, 5, 'ann', :t)"), {"d": d, "t": True})
    s.upgrade()
    assert s.current_revision() == HEAD
    with s.engine.connect() as conn:
        usage = conn.execute(sa.select(tables.copilot_usage_daily)).mappings().one()
        user = conn.execute(sa.select(tables.copilot_user_daily)).mappings().one()
        assert conn.execute(sa.select(sa.func.count()).select_from(tables.copilot_pull_request_daily)).scalar() == 0
    assert (usage["daily_active_users"], usage["acceptance_rate"]) == (7, 0.3032)
    assert all(usage[c] is None for c in (*tables.SURFACE_USER_FIELDS, "parser_version"))
    assert (user["user_login"], bool(user["used_cli"])) == ("ann", True)
    assert all(user[c] is None for c in (*tables.USER_SURFACE_FLAGS, "ai_credits_used", "ai_adoption_phase"))
    assert s.get_team("acme").ai_credit_monthly_budget is None
    s.engine.dispose()


def test_migration_0004_keeps_tokens_adds_app_credentials_and_downgrades(store_url):
    """A store at 0002 with a token: 0004 keeps it (kind token), stores App credentials (the key encrypted,
    the CHECK refusing a half App row), and downgrades back to 0002."""
    from sqlalchemy.exc import IntegrityError

    from resources.store import Store

    s = Store(store_url)
    s.upgrade("0002")
    now = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
    with s.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO teams (id, slug, name, github_org, copilot_status, copilot_consecutive_failures, "
            "onboarding_pipeline_status, created_at, updated_at) VALUES (1, 'acme', 'Acme', 'acme', 'connected', 0, "
            "'complete', :n, :n)"), {"n": now})
        conn.execute(sa.text("INSERT INTO credentials (team_id, token_encrypted, is_revoked, created_at) "
                             "VALUES (1, :t, false, :n)"), {"t": s.box.encrypt(Secret("tok-1")), "n": now})
    s.upgrade()
    assert s.current_revision() == HEAD
    cred = s.active_credential(1)
    assert (cred.kind, cred.token.reveal()) == ("token", "tok-1")
    app_id = s.store_app_credential(1, app_id=11, installation_id=22, private_key=Secret("-----PEM-----"),
                                    verified=True)
    cred = s.active_credential(1)
    assert (cred.id, cred.kind, cred.app_id, cred.installation_id, cred.token) == (app_id, "github_app", 11, 22, None)
    assert cred.private_key.reveal() == "-----PEM-----" and "PEM" not in repr(cred)
    [row] = [r for r in credential_rows(s, 1) if r["kind"] == "github_app"]
    assert row["token_encrypted"] is None and "PEM" not in row["private_key_encrypted"]
    with pytest.raises(IntegrityError), s.engine.begin() as conn:  # an App row without its key
        conn.execute(sa.text("INSERT INTO credentials (team_id, kind, app_id, installation_id, is_revoked, "
                             "created_at) VALUES (1, 'github_app', 1, 2, false, :n)"), {"n": now})
    s.downgrade("0002")
    assert s.current_revision() == "0002"
    with s.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM credentials")).scalar_one() == 1  # the token
    s.downgrade("0001")  # the teams' children survive every downgrade (no table rebuild of teams)
    with s.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM credentials")).scalar_one() == 1
        assert conn.execute(sa.text("SELECT slug FROM teams")).scalars().all() == ["acme"]
    s.engine.dispose()


def test_team_crud(store):
    t = store.add_team("acme-web", name="Acme Web", github_org="acme")
    assert (t.slug, t.github_org, t.copilot_status, t.copilot_consecutive_failures) == (
        "acme-web", "acme", "disabled", 0)
    assert t.onboarding_pipeline_status == "not_started"
    assert t.created_at.tzinfo is not None
    store.add_team("beta", name="Beta", github_org="beta-org")
    assert [x.slug for x in store.list_teams()] == ["acme-web", "beta"]
    assert store.get_team_by_id(t.id).slug == "acme-web"
    with pytest.raises(DuplicateTeam, match="already exists"):
        store.add_team("acme-web", name="Again", github_org="acme")
    with pytest.raises(UnknownTeam, match="unknown team 'nope'"):
        store.get_team("nope")
    assert store.count_rows("teams") == 2


@pytest.mark.parametrize("slug", ["a,b", "a|b", "a b", "", "UPPER", "-lead", "x" * 65, "a[1]"])
def test_bad_slugs_are_refused_and_nothing_written(store, slug):
    with pytest.raises(InvalidInput):
        store.add_team(slug, name="X", github_org="acme")
    assert store.count_rows("teams") == 0


def test_bad_org_refused(store):
    with pytest.raises(InvalidInput, match="GitHub organization"):
        store.add_team("ok", name="X", github_org="bad org!")
    assert store.count_rows("teams") == 0


def test_flag_resolution_master_first_then_override(store):
    a = store.add_team("a", name="A", github_org="a")
    b = store.add_team("b", name="B", github_org="b")
    assert not store.flag_for_team(COPILOT_FLAG, a.id).enabled  # never set: off
    store.set_flag(COPILOT_FLAG, True)
    assert store.flag_for_team(COPILOT_FLAG, a.id).enabled
    store.set_flag(COPILOT_FLAG, False, team_id=a.id)
    assert not store.flag_for_team(COPILOT_FLAG, a.id).enabled  # override beats global
    assert store.flag_for_team(COPILOT_FLAG, b.id).enabled
    store.set_flag(COPILOT_FLAG, True, team_id=b.id)
    store.set_flag(COPILOT_FLAG, False)  # master off wins over an "on" override
    assert not store.flag_for_team(COPILOT_FLAG, b.id).enabled
    assert store.flag_values(COPILOT_FLAG) == (False, {a.id: False, b.id: True})
    with pytest.raises(InvalidInput, match="unknown flag"):
        store.set_flag("nope", True)


def test_status_event_log_appends(store):
    t = store.add_team("a", name="A", github_org="a")
    at = datetime(2026, 11, 20, 5, tzinfo=UTC)
    for i, status in enumerate(["connected", "token_revoked"]):
        store.save_health(
            t.id, status=status, reason=None, consecutive_failures=0, last_sync_at=at,
            last_success_run_started_at=None,
            event={"event": f"e{i}", "from_status": "x", "to_status": status, "from_failures": 0,
                   "to_failures": 0, "reason": None, "actor": "test", "run_id": f"r{i}", "detail": None},
        )
    events = store.status_events(t.id)
    assert [e["to_status"] for e in events] == ["token_revoked", "connected"]
    assert store.get_team("a").copilot_status == "token_revoked"
    assert store.get_team("a").copilot_last_sync_at == at


def test_run_outcome_applied_exactly_once(store):
    t = store.add_team("a", name="A", github_org="a")
    kw = dict(status="connected", reason=None, consecutive_failures=1, last_sync_at=None,
              last_success_run_started_at=None, event=None)
    assert store.save_health(t.id, run_outcome=("run-1", "failure"), **kw)
    assert not store.save_health(t.id, run_outcome=("run-1", "failure"), **{**kw, "consecutive_failures": 2})
    assert store.get_team("a").copilot_consecutive_failures == 1
    assert store.run_outcome_applied("run-1", t.id)


def test_token_encrypted_at_rest_and_replaced_credentials_kept_revoked(store):
    t = store.add_team("a", name="A", github_org="a")
    token = "ghp_CANARYtokenVALUE1234567890"
    store.store_credential(t.id, Secret(token), verified=True)
    with store.engine.connect() as conn:
        raw = [tuple(str(v) for v in r) for r in conn.execute(sa.select(tables.credentials))]
    assert raw and all(token not in v for row in raw for v in row)
    assert active_token(store, t.id) == Secret(token)
    store.store_credential(t.id, Secret("ghp_second"), verified=True)
    rows = credential_rows(store, t.id)
    assert [r["is_revoked"] for r in rows] == [True, False]
    assert rows[0]["revoked_reason"] == "replaced"
    assert active_token(store, t.id).reveal() == "ghp_second"
    assert store.revoke_credentials(t.id, "bad_credentials") == 1
    assert active_token(store, t.id) is None
    with pytest.raises(InvalidInput, match="empty"):
        store.store_credential(t.id, Secret("  "), verified=False)


def test_replace_team_day_is_delete_then_insert(store):
    t = store.add_team("a", name="A", github_org="a")
    other = store.add_team("b", name="B", github_org="b")
    day = date(2026, 11, 20)
    row = {"language": "python", "code_generation_activity_count": 10, "code_acceptance_activity_count": 4,
           "acceptance_rate": 0.4}
    for team in (t, other):
        store.replace_team_day(team.id, day, {"copilot_language_daily": [row, {**row, "language": "go"}]})
    store.replace_team_day(t.id, day, {"copilot_language_daily": [row]},
                           raw_reports={"organization-1-day": [{"day": "2026-11-20", "x_new": 1}]})
    assert store.count_rows("copilot_language_daily", t.id, day) == 1
    assert store.count_rows("copilot_language_daily", other.id, day) == 2
    assert store.count_rows("copilot_raw_reports", t.id, day) == 1
    # a failing insert rolls the whole team-day back: the previous rows stay
    with pytest.raises(sa.exc.IntegrityError):
        store.replace_team_day(t.id, day, {"copilot_language_daily": [row, row]})
    assert store.count_rows("copilot_language_daily", t.id, day) == 1
