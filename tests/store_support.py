"""Test-side reads of the app store that the product itself never needs (so they are not in the store)."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from resources import queries
from resources.secrets import Secret
from resources.store import Store
from resources.tables import credentials


def active_token(store: Store, team_id: int) -> Secret | None:
    cred = store.active_credential(team_id)
    return cred.token if cred else None


def credential_rows(store: Store, team_id: int) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(credentials).where(credentials.c.team_id == team_id).order_by(credentials.c.id))]


def days_present(store: Store, table_name: str, team_id: int, start: date, end: date) -> set[date]:
    with store.engine.connect() as conn:
        return queries.days_with_rows(conn, table_name, team_id, start, end)
