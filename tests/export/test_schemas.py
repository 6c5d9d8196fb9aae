"""Column schemas: every store table has one, every column is described, and each asset carries the
schema of the main table it writes as ``dagster/column_schema`` definition metadata."""

from __future__ import annotations

import dagster as dg
import pytest

from resources import tables
from resources.schemas import (
    ASSET_TABLES,
    TABLE_SCHEMA_KEY,
    all_table_schemas,
    column_description,
    table_schema,
)


def test_every_store_table_has_a_schema_with_every_column_typed_and_described():
    schemas = all_table_schemas()
    assert set(schemas) == set(tables.metadata.tables)
    for t in tables.metadata.sorted_tables:
        schema = schemas[t.name]
        assert [c.name for c in schema.columns] == [c.name for c in t.columns]
        for col in schema.columns:
            assert col.type and col.description, (t.name, col.name)
            assert column_description(t.name, col.name) == col.description


def test_usage_schema_types_nullability_and_primary_key():
    schema = table_schema("copilot_usage_daily")
    cols = {c.name: c for c in schema.columns}
    assert cols["day"].type == "date" and cols["day"].constraints.nullable is False
    assert cols["acceptance_rate"].type == "float" and cols["acceptance_rate"].constraints.nullable is True
    assert cols["loc_added_sum"].type == "bigint" and cols["fetched_at"].type == "timestamp (UTC)"
    assert "primary key (team_id, day)" in schema.constraints.other
    assert table_schema(tables.copilot_usage_daily) == schema
    with pytest.raises(KeyError, match="unknown store table"):
        table_schema("nope")


def test_assets_carry_the_column_schema_of_their_main_table():
    from definitions import defs

    graph = defs.resolve_asset_graph()
    for asset, names in ASSET_TABLES.items():
        assert all(n in tables.metadata.tables for n in names)
        node = graph.get(dg.AssetKey(asset))
        assert node.metadata["dagster/column_schema"] == table_schema(names[0]), asset
        for name in names[1:]:  # every other data table it writes has its schema in the UI too
            if name in tables.TEAM_DAY_TABLES:
                assert node.metadata[TABLE_SCHEMA_KEY.format(name)] == table_schema(name), (asset, name)
        assert node.owners and node.description
    # the tables the 2026 fields, seat plans and costs added
    usage = graph.get(dg.AssetKey("copilot_usage")).metadata
    for name in ("copilot_pull_request_daily", "copilot_pr_suggestion_daily", "copilot_cli_daily",
                 "copilot_app_daily", "copilot_third_party_agent_daily"):
        assert TABLE_SCHEMA_KEY.format(name) in usage
    assert TABLE_SCHEMA_KEY.format("copilot_seat_plan_daily") in graph.get(dg.AssetKey("copilot_seats")).metadata
