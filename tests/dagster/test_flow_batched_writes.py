"""A team's team-days of one step are written together (issue 20: one DELETE and one INSERT per table for all of
them), and a day the database refuses fails alone: the team's other days are written and materialized."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import sqlalchemy as sa
from flow_support import USAGE, day_keys, failed_partitions, mats, step_failure, today

from copilot_assets import derive


def _count_statements(engine: sa.Engine) -> Counter[tuple[str, str]]:
    seen: Counter[tuple[str, str]] = Counter()

    def count(conn, clauseelement, multiparams, params, execution_options, result) -> None:
        if isinstance(clauseelement, sa.sql.dml.Delete | sa.sql.dml.Insert):
            seen[(type(clauseelement).__name__.lower(), clauseelement.table.name)] += 1

    sa.event.listen(engine, "after_execute", count)
    return seen


def test_three_days_of_a_team_are_written_with_one_delete_and_one_insert_per_table(flow) -> None:
    flow.add_team("acme", "acme-org")
    end = today() - timedelta(days=40)  # 1-day reports: one per team-day
    start = end - timedelta(days=2)
    seen = _count_statements(flow.store.engine)

    result = flow.range_run("acme", "acme", start, end, USAGE)
    assert result.success
    assert set(mats(result)) == day_keys("acme", start, end)
    assert [r["day"] for r in flow.rows("copilot_usage_daily", "acme")] == [start + timedelta(days=k) for k in range(3)]
    assert seen[("delete", "copilot_usage_daily")] == 1 and seen[("insert", "copilot_usage_daily")] == 1
    assert seen[("delete", "copilot_raw_reports")] == 1 and seen[("insert", "copilot_raw_reports")] == 1
    assert seen[("insert", "copilot_day_status")] == 1  # three new day states in one statement
    assert len(flow.rows("copilot_raw_reports", "acme")) == 3

    # the same days again: replaced, not duplicated; the states are updated in place
    again = flow.range_run("acme", "acme", start, end, USAGE)
    assert again.success and flow.count("copilot_usage_daily", "acme") == 3
    assert seen[("insert", "copilot_day_status")] == 1


def test_a_day_the_database_refuses_fails_alone(flow, monkeypatch) -> None:
    flow.add_team("acme", "acme-org")
    end = today() - timedelta(days=40)
    start = end - timedelta(days=2)
    bad = start + timedelta(days=1)
    real = derive.usage_tables

    def corrupt(record, day, source, fetched_at):
        rows, tables = real(record, day, source, fetched_at)
        if day == bad:
            tables["copilot_usage_daily"][0]["acceptance_rate"] = 1.5  # violates acceptance_rate_range
        return rows, tables

    monkeypatch.setattr(derive, "usage_tables", corrupt)
    result = flow.range_run("acme", "acme", start, end, USAGE)
    assert not result.success
    good = day_keys("acme", start, end) - {f"{bad.isoformat()}|acme"}
    assert set(mats(result)) == good and flow.materialized(USAGE) == good
    assert failed_partitions(flow, USAGE) == {f"{bad.isoformat()}|acme"}
    assert [r["day"] for r in flow.rows("copilot_usage_daily", "acme")] == [start, end]
    assert flow.count("copilot_usage_daily", "acme", bad) == 0
    _, md = step_failure(result)
    [failed] = md["failed_team_days"]
    assert (failed["day"], failed["error_kind"]) == (bad.isoformat(), "internal_error")
    assert "acceptance_rate_range" in failed["message"]
    states = flow.store.day_states([flow.teams["acme"].id], ["copilot_usage"], start, end)
    assert sorted(d for (_, _, d), s in states.items() if s == "data") == [start, end]
