"""COPY on PostgreSQL writes exactly what INSERT writes (resources/store/pg_copy.py), and falls back to INSERT
where it cannot promise that."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from resources import tables
from resources.store import pg_copy, team_days
from resources.store.team_days import TeamDayWrite

DAY = date(2026, 11, 20)

# values that a text-format writer gets wrong if it is careless: NULL vs '', tabs, newlines, backslashes,
# "\N" as a string, non-ASCII, big integers, float edge values, both booleans
USER_ROWS = [
    {"user_id": 1, "user_login": "plain", "user_initiated_interaction_count": 3, "used_chat": True,
     "used_copilot_app": False, "ai_credits_used": 0.125},
    {"user_id": 2, "user_login": "", "user_initiated_interaction_count": 0, "used_chat": False,
     "used_copilot_app": None, "ai_credits_used": None},
    {"user_id": 2**53 + 1, "user_login": "tab\there\nnew\\line\r\\N", "user_initiated_interaction_count": 2**40,
     "used_chat": False, "used_copilot_app": True, "ai_credits_used": 1e-300},
    {"user_id": 4, "user_login": "ünï cødé ✓ 漢字", "user_initiated_interaction_count": 7, "used_chat": True,
     "used_copilot_app": None, "ai_credits_used": float("nan")},
    {"user_id": 5, "user_login": None, "user_initiated_interaction_count": 1, "used_chat": False,
     "used_copilot_app": False, "ai_credits_used": float("inf")},
    {"user_id": 6, "user_login": "\\N", "user_initiated_interaction_count": 1, "used_chat": False,
     "used_copilot_app": False, "ai_credits_used": -0.0},
]
SEAT_ROW = {"snapshot_at": datetime(2026, 11, 20, 23, 59, 59, 999999, tzinfo=UTC), "total_seats": 50,
            "active_seats": 12, "inactive_seats": 38, "pending_invitation": 0, "pending_cancellation": 1,
            "added_this_cycle": 2, "never_used": 3, "dormant_30d": 4, "listed_seats": 50, "plan_type": "business",
            "seat_management_setting": "assign\tselected", "seat_cost_usd": 950.5}


def _rows(store, table: sa.Table, team_id: int) -> list[tuple]:
    with store.engine.connect() as conn:
        cols = [c for c in table.c if c.name != "team_id"]
        rows = conn.execute(sa.select(*cols).where(table.c.team_id == team_id).order_by(*cols[:3])).all()
    return [tuple("nan" if isinstance(v, float) and math.isnan(v) else v for v in r) for r in rows]


def _write(store, team_id: int) -> None:
    store.replace_team_days(team_id, [
        TeamDayWrite(DAY, {"copilot_user_daily": USER_ROWS, "copilot_seat_snapshots": [SEAT_ROW]},
                     raw_reports={"users-1-day": [{"login": "a\tb", "s": "x\\y\n"}]},
                     raw_fetched_at=datetime(2026, 11, 21, 4, 45, tzinfo=timezone(timedelta(hours=2)))),
        TeamDayWrite(DAY + timedelta(days=1), {"copilot_user_daily": USER_ROWS[:2]}),
    ])


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)  # COPY is PostgreSQL's
def test_copy_writes_what_insert_writes(store, monkeypatch):
    copied = store.add_team("copied", name="C", github_org="c")
    inserted = store.add_team("inserted", name="I", github_org="i")
    calls: list[str] = []
    real = pg_copy.copy_rows

    def spy(conn, table, rows):
        calls.append(table.name)
        return real(conn, table, rows)

    monkeypatch.setattr(team_days, "copy_rows", spy)
    _write(store, copied.id)
    assert sorted(calls) == ["copilot_raw_reports", "copilot_seat_snapshots", "copilot_user_daily"]
    monkeypatch.setattr(team_days, "copy_rows", lambda conn, table, rows: False)  # the plain INSERT path
    _write(store, inserted.id)
    for table in (tables.copilot_user_daily, tables.copilot_seat_snapshots, tables.copilot_raw_reports):
        got, want = _rows(store, table, copied.id), _rows(store, table, inserted.id)
        assert got == want, table.name
        assert got, table.name
    with store.engine.connect() as conn:
        logins = {r.user_login for r in conn.execute(sa.select(tables.copilot_user_daily.c.user_login).where(
            tables.copilot_user_daily.c.team_id == copied.id))}
    assert logins == {"plain", "", "tab\there\nnew\\line\r\\N", "ünï cødé ✓ 漢字", None, "\\N"}
    with store.engine.connect() as conn:
        nulls = conn.execute(sa.select(sa.func.count()).where(
            tables.copilot_user_daily.c.team_id == copied.id, tables.copilot_user_daily.c.used_copilot_app.is_(None))
        ).scalar_one()
    assert nulls == 3  # user 2 on both days and user 4: NULL, not '' or false


def test_rows_copy_cannot_promise_are_inserted(store):
    """Different keys per row, or a value of a kind COPY's writer does not know: INSERT writes them (or fails
    as INSERT fails) — never a half-written COPY."""
    t = store.add_team("mixed", name="M", github_org="m")
    rows = [{"language": "go", "code_generation_activity_count": 1, "acceptance_rate": 0.5},
            {"language": "py", "code_generation_activity_count": 2}]
    assert pg_copy.copy_buffer(tables.copilot_language_daily, rows) is None
    with pytest.raises(sa.exc.StatementError):  # as SQLAlchemy's executemany refuses rows with different keys
        store.replace_team_day(t.id, DAY, {"copilot_language_daily": rows})
    ok = [{"language": "go", "code_generation_activity_count": 1.0}, {"language": "py",
                                                                      "code_generation_activity_count": 2.0}]
    assert pg_copy.copy_buffer(tables.copilot_language_daily, ok) is None  # a float in an integer column
    store.replace_team_day(t.id, DAY, {"copilot_language_daily": ok})
    assert store.count_rows("copilot_language_daily", t.id, DAY) == 2


def test_a_duplicate_key_in_copy_fails_as_insert_does_and_keeps_the_stored_rows(store):
    t = store.add_team("dup", name="D", github_org="d")
    _write(store, t.id)
    before = _rows(store, tables.copilot_user_daily, t.id)
    with pytest.raises(sa.exc.IntegrityError):
        store.replace_team_day(t.id, DAY, {"copilot_user_daily": [USER_ROWS[0], USER_ROWS[0]]})
    assert _rows(store, tables.copilot_user_daily, t.id) == before


def test_copy_text_format():
    cols, body = pg_copy.copy_buffer(tables.copilot_user_daily, USER_ROWS[:3])
    assert cols == list(USER_ROWS[0])
    assert body.split("\n") == [
        "1\tplain\t3\tt\tf\t0.125",
        "2\t\t0\tf\t\\N\t\\N",
        f"{2**53 + 1}\ttab\\there\\nnew\\\\line\\r\\\\N\t{2**40}\tf\tt\t1e-300",
        "",
    ]
    assert pg_copy.copy_buffer(tables.copilot_user_daily, []) is None
    assert pg_copy.copy_buffer(tables.copilot_user_daily, [{"no_such_column": 1}]) is None
    assert pg_copy.text_value("a\\b\tc\nd\re") == "a\\\\b\\tc\\nd\\re"


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_postgresql_with_another_driver_deletes_one_statement_at_a_time(store, monkeypatch):
    """A driver other than psycopg2 (server-side binding cannot take several statements in one string) takes
    the locks and DELETEs one statement each: a second write of the same days replaces, never duplicates."""
    t = store.add_team("other-driver", name="O", github_org="o")
    _write(store, t.id)
    first = _rows(store, tables.copilot_user_daily, t.id)
    sent: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda conn, cur, stmt, *a: sent.append(stmt))
    monkeypatch.setattr(store.engine.dialect, "driver", "not-psycopg2")
    _write(store, t.id)
    assert _rows(store, tables.copilot_user_daily, t.id) == first
    assert len(first) == len(USER_ROWS) + 2
    deletes = [s for s in sent if s.startswith("DELETE FROM")]
    assert len(deletes) == 3  # copilot_user_daily, copilot_seat_snapshots, copilot_raw_reports: one each
    assert any("pg_advisory_xact_lock" in s and "DELETE" not in s for s in sent)
