"""Crash safety (docs/reliability.md: "a process killed mid-write"): a child process that materializes a team-day is
SIGKILLed inside Store.replace_team_days's transaction (first table already replaced, second deleted, not yet
re-inserted). The previous rows stay exactly as they were, on SQLite and PostgreSQL; a re-run writes exactly
the rows of an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from flow_support import USAGE, expected_org_day, today
from rel_support import sends_team_day_delete, team_day_rows

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("crash_child.py")
USAGE_TABLES = ("copilot_usage_daily", "copilot_language_daily", "copilot_editor_daily",
                "copilot_model_daily", "copilot_feature_daily", "copilot_raw_reports")


def test_sigkill_inside_replace_team_day_keeps_previous_rows(flow_any, tmp_path) -> None:
    flow = flow_any
    team = flow.add_team("acme", "acme-org")
    day = today() - timedelta(days=4)
    assert flow.team_day("acme", day, USAGE).success
    before = team_day_rows(flow.store.engine, team.id, day, USAGE_TABLES)
    assert [r["daily_active_users"] for r in before["copilot_usage_daily"]] == \
        [expected_org_day("acme-org", day)["dau"]]
    assert all(before[t] for t in USAGE_TABLES)
    requests_before = len(flow.requests("acme"))

    marker = tmp_path / "frozen"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, str(CHILD), flow.store_url, flow.sim_url, "acme", day.isoformat(), str(marker)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, child.stdout.read().decode()[-3000:]
            assert time.monotonic() < deadline, "the child never reached replace_team_days"
            time.sleep(0.05)
        frozen_after = marker.read_text().split(",")
        assert len(frozen_after) == 2 and frozen_after[0] != frozen_after[1]
        # the child fetched the day from GitHub (envelope + download) and is now inside the transaction
        assert len(flow.requests("acme")) == requests_before + 2
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()

    # nothing of the killed write is visible: the previous rows, exactly
    deadline = time.monotonic() + 10
    while (after := team_day_rows(flow.store.engine, team.id, day, USAGE_TABLES)) != before \
            and time.monotonic() < deadline:  # PostgreSQL rolls back as soon as it sees the socket close
        time.sleep(0.1)
    assert after == before

    # the re-run produces exactly the rows of an uninterrupted run
    again = flow.team_day("acme", day, USAGE)
    assert again.success
    assert team_day_rows(flow.store.engine, team.id, day, USAGE_TABLES) == before


def test_postgres_connection_killed_during_a_write(fast_tmp, sim, pg_schema_url, pg_available) -> None:
    """pg_terminate_backend on the store's own connection (never a server restart) right after the first
    DELETE of the team-day: the write fails with a clear error, no partial rows, the next write succeeds."""
    import sqlalchemy as sa
    from flow_support import make_flow, step_failure


    with make_flow(fast_tmp, sim, pg_schema_url) as flow:
        team = flow.add_team("acme", "acme-org")
        day = today() - timedelta(days=4)
        assert flow.team_day("acme", day, USAGE).success
        before = team_day_rows(flow.store.engine, team.id, day, USAGE_TABLES)
        admin = sa.create_engine(pg_available)
        killed: list[int] = []

        def kill_own_backend(conn, cursor, statement, *args) -> None:
            if not killed and sends_team_day_delete(statement):
                pid = conn.connection.dbapi_connection.get_backend_pid()
                with admin.connect() as c:
                    assert c.execute(sa.text("select pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
                killed.append(pid)

        sa.event.listen(flow.store.engine, "after_cursor_execute", kill_own_backend)
        try:
            result = flow.team_day("acme", day, USAGE)
        finally:
            sa.event.remove(flow.store.engine, "after_cursor_execute", kill_own_backend)
            admin.dispose()
        assert len(killed) == 1
        assert not result.success
        _description, md = step_failure(result)
        [failed] = md["failed_team_days"]
        assert (failed["team"], failed["day"]) == ("acme", day.isoformat())
        assert failed["error_kind"] == "internal_error"
        assert failed["message"].startswith("OperationalError: (psycopg2.OperationalError)"), failed
        assert ("server closed the connection unexpectedly" in failed["message"]
                or "terminating connection due to administrator command" in failed["message"]), failed
        assert team_day_rows(flow.store.engine, team.id, day, USAGE_TABLES) == before  # no partial rows

        again = flow.team_day("acme", day, USAGE)  # the pool replaces the dead connection
        assert again.success
        assert team_day_rows(flow.store.engine, team.id, day, USAGE_TABLES) == before
