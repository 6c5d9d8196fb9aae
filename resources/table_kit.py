"""What every app-store table is built with: the one MetaData (with its constraint naming, which the Alembic
migrations mirror), the UTC timestamp type, and the column and table makers shared by resources/tables.py
and resources/tables_2026.py."""

from __future__ import annotations

import sqlalchemy as sa

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)

UTC_TS = sa.DateTime(timezone=True)

def check_in(column: str, values: tuple[str, ...]) -> str:
    """The text of a ``column IN (...)`` CHECK constraint, built from the one list of allowed values."""
    return f"{column} IN ({','.join(repr(v) for v in values)})"



def team_fk() -> sa.Column:
    return sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="CASCADE"), nullable=False)


def team_day_table(name: str, *columns: sa.SchemaItem, key: tuple[str, ...] = ()) -> sa.Table:
    """A table of one team's data per UTC day: keyed by (team_id, day, *key), the team_id a foreign key to
    teams (our tenant, never a GitHub team)."""
    return sa.Table(name, metadata, team_fk(), sa.Column("day", sa.Date, nullable=False), *columns,
                    sa.PrimaryKeyConstraint("team_id", "day", *key))


def parser_version() -> sa.Column:
    """The parser version that derived a row (``copilot_assets.parsing.PARSER_VERSION``); null on rows derived
    before versions were recorded. Re-deriving from ``copilot_raw_reports`` brings a row to the current one."""
    return sa.Column("parser_version", sa.Integer)


def nullable(kind: type[sa.types.TypeEngine], *names: str) -> list[sa.Column]:
    """Columns of GitHub fields that may be absent: null = GitHub did not say (never 0)."""
    return [sa.Column(name, kind) for name in names]


def counters() -> list[sa.Column]:
    return [
        sa.Column("user_initiated_interaction_count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("code_generation_activity_count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("code_acceptance_activity_count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("loc_suggested_to_add_sum", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("loc_added_sum", sa.BigInteger, nullable=False, server_default="0"),
    ]


__all__ = ["NAMING", "UTC_TS", "check_in", "counters", "metadata", "nullable", "parser_version", "team_day_table",
           "team_fk"]
