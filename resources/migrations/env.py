"""Alembic environment: the connection is handed in by ``Store.upgrade`` (or built from the app URL)."""

from __future__ import annotations

from alembic import context

from resources import settings as app_config
from resources.tables import metadata

target_metadata = metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        from resources.store import make_engine

        engine = make_engine(app_config.database_url())
        with engine.begin() as conn:
            context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
