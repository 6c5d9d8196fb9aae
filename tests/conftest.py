"""Shared fixtures: an isolated home per test, and app stores on SQLite and PostgreSQL.

PostgreSQL runs when COPILOT_FLOW_TEST_PG_URL is set (`make test` and CI set it). Each test gets its own
schema, dropped afterwards, so parallel workers never see each other's rows. When the URL is set but the
server cannot be reached, the tests fail: they never skip silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

PG_ENV = "COPILOT_FLOW_TEST_PG_URL"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch) -> Iterator[None]:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("COPILOT_FLOW_HOME", str(home))
    monkeypatch.setenv("COPILOT_FLOW_SECRET_KEY", Fernet.generate_key().decode())
    for var in ("COPILOT_FLOW_DATABASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "DAGSTER_PG_URL",
                "COPILOT_FLOW_GITHUB_API_URL"):
        monkeypatch.delenv(var, raising=False)
    yield


@pytest.fixture(autouse=True, scope="session")
def fixed_definitions_load_context() -> Iterator[None]:
    """Loading definitions in-process asks Dagster's context-local defs-state storage (a weakref to the last
    entered instance) for state-backed components, which this project has none of. With many short-lived
    test instances per worker that weakref can point at a disposed instance ("Attempted to resolve undefined
    DagsterInstance weakref"). Pin one load context without state storage for the whole session."""
    from dagster._core.definitions.definitions_load_context import DefinitionsLoadContext, DefinitionsLoadType
    from dagster._core.storage.defs_state import base

    base._current_storage.set(None)
    DefinitionsLoadContext.set(DefinitionsLoadContext(load_type=DefinitionsLoadType.INITIALIZATION))
    yield


@pytest.fixture(autouse=True)
def no_step_retry_wait(monkeypatch) -> None:
    """The assets' RetryPolicy waits ~30 s before a step retry; a test must never sit in that wait
    (the retry itself still happens)."""
    from dagster._core.definitions.policy import RetryPolicy

    monkeypatch.setattr(RetryPolicy, "calculate_delay", lambda self, attempt_num: 0.0)


@pytest.fixture(scope="session")
def _github_server():
    """One GitHub simulator per test session (tests reset its state)."""
    from simulators.github import create_app
    from simulators.serve import start_in_thread

    app = create_app({})
    handle = start_in_thread(app)
    try:
        yield handle.url, app.state.sim
    finally:
        handle.stop()


def pg_base_url() -> str | None:
    url = os.environ.get(PG_ENV, "").strip()
    return url or None


@pytest.fixture(scope="session")
def pg_available() -> str:
    url = pg_base_url()
    if url is None:
        if os.environ.get("COPILOT_FLOW_REQUIRE_PG"):
            pytest.fail(f"{PG_ENV} is not set but COPILOT_FLOW_REQUIRE_PG is")
        pytest.skip(f"{PG_ENV} not set: PostgreSQL variant not run")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as exc:  # fail, never skip, when configured
        pytest.fail(f"PostgreSQL at {PG_ENV} cannot be reached: {type(exc).__name__}: {exc}")
    finally:
        engine.dispose()
    return url


@pytest.fixture
def pg_schema_url(pg_available: str) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema (dropped after the test)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_available)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in pg_available else "?"
    url = f"{pg_available}{sep}options={quote(f'-csearch_path={schema}')}"
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_schema_url")


@pytest.fixture
def store(store_url):
    from resources.store import Store

    s = Store(store_url)
    s.upgrade()
    yield s
    s.engine.dispose()


@pytest.fixture
def sqlite_store(tmp_path):
    from resources.store import Store

    s = Store(f"sqlite:///{tmp_path / 'store.db'}")
    s.upgrade()
    yield s
    s.engine.dispose()
