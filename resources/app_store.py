"""The app store as a Dagster resource (one Store per process and URL)."""

from __future__ import annotations

import threading

import dagster as dg

from resources import settings
from resources.store import Store

_STORES: dict[str, Store] = {}
_LOCK = threading.Lock()


def store_for(url: str | None = None) -> Store:
    url = settings.normalize_database_url(url or settings.database_url())
    with _LOCK:
        store = _STORES.get(url)
        if store is None:
            store = Store(url)
            store.ensure_schema()
            _STORES[url] = store
        return store


class StoreResource(dg.ConfigurableResource):
    """App store. ``database_url`` empty → ``COPILOT_FLOW_DATABASE_URL`` or the embedded SQLite file."""

    database_url: str = ""

    def get(self) -> Store:
        return store_for(self.database_url or None)
