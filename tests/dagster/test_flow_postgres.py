"""The single team-day materialization with the Dagster instance AND the app store on PostgreSQL.

Each test gets two fresh schemas (instance storage, app store) through ``search_path`` in the URL, so
parallel xdist workers never share tables and nothing needs ``instance.wipe()``. Uses ``pg_available``:
fails (never skips) when COPILOT_FLOW_TEST_PG_URL is set but the server is down.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flow_support import USAGE, USER_USAGE, checks, expected_org_day, expected_users, mats, today


def test_team_day_on_a_postgres_instance_and_postgres_store(pg_flow) -> None:
    flow, instance_schema, base_url = pg_flow
    assert type(flow.instance.run_storage).__name__ == "PostgresRunStorage"
    storage = flow.instance.event_log_storage
    assert type(storage).__name__ == "PooledPostgresEventLogStorage"  # dagster.postgres.yaml's own choice
    assert flow.store.engine.dialect.name == "postgresql"
    opened_before = storage.connections_opened

    flow.add_team("acme", "acme-org")
    day = today() - timedelta(days=1)
    key = f"{day.isoformat()}|acme"
    exp = expected_org_day("acme-org", day)
    result = flow.team_day("acme", day, USAGE, USER_USAGE)
    assert result.success

    [usage] = flow.rows("copilot_usage_daily", "acme", day)
    assert (usage["daily_active_users"], usage["code_generation_activity_count"], usage["acceptance_rate"]) == (
        exp["dau"], exp["gen"], exp["rate"])
    assert flow.count("copilot_user_daily", "acme", day) == len(expected_users("acme-org", day))
    assert flow.raw_report("acme", day, "organization-1-day")[0]["etl_id"] == exp["raw"]["etl_id"]
    md = mats(result)[key]
    assert md["active_users"] == exp["dau"] and md["github_calls"] == 2 and md["no_report"] is False
    assert checks(result)["fresh_last_3_days"].passed is True
    assert flow.materialized(USAGE) == {key}

    # the run and its events really live in this test's own schema of the PostgreSQL database
    engine = sa.create_engine(base_url)
    try:
        with engine.connect() as conn:
            runs = conn.execute(sa.text(f'SELECT run_id FROM "{instance_schema}".runs')).scalars().all()
            mat_events = conn.execute(sa.text(
                f'SELECT count(*) FROM "{instance_schema}".event_logs '
                "WHERE dagster_event_type = 'ASSET_MATERIALIZATION' AND partition = :p"), {"p": key}).scalar_one()
            teams_in_public = conn.execute(sa.text(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = :s AND table_name = 'teams'"),
                {"s": instance_schema}).scalar_one()
    finally:
        engine.dispose()
    # one run writes dozens of events; the pooled event log reuses its connections (the stock
    # dagster-postgres storage opens ≈ 2 per event: docs/benchmarks.md)
    n_events = len(flow.instance.get_records_for_run(result.run_id, limit=100000).records)
    assert n_events >= 20
    assert storage.connections_opened - opened_before <= storage.pool_size + storage.max_overflow
    assert runs == [result.run_id]
    assert mat_events == 2  # copilot_usage and copilot_user_usage
    assert teams_in_public == 0  # the app store is in its own schema, apart from the instance


def test_pooled_event_log_refuses_a_bad_pool_config(pg_available) -> None:
    import pytest

    from resources.dagster_storage import PooledPostgresEventLogStorage
    from resources.settings import normalize_database_url

    with pytest.raises(ValueError, match=r"pool_size must be ≥ 1.*got pool_size=0"):
        PooledPostgresEventLogStorage(normalize_database_url(pg_available), should_autocreate_tables=False,
                                      pool_size=0)
