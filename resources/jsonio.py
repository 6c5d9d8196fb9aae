"""JSON in and out of the hot path (report records, raw payloads), with orjson.

The sync parses every record GitHub sends and keeps each team-day's records as raw JSON; with the standard
library that was the largest single cost of a nightly run after the store writes (docs/benchmarks.md, issue 20
profile). orjson reads and writes the same JSON documents: ``loads`` accepts ``str`` or ``bytes`` and raises a
``ValueError`` (``orjson.JSONDecodeError``) on malformed input, as ``json.loads`` does; ``dumps`` writes compact
JSON (no spaces, UTF-8 instead of ``\\u`` escapes: the same value).
"""

from __future__ import annotations

from typing import Any

import orjson

JSONDecodeError = orjson.JSONDecodeError  # a ValueError


def loads(data: str | bytes | bytearray | memoryview) -> Any:
    return orjson.loads(data)


def dumps(obj: Any) -> str:
    """Compact JSON text of ``obj`` (records as GitHub sent them: str keys, JSON values)."""
    return orjson.dumps(obj).decode("utf-8")


def dumps_bytes(obj: Any) -> bytes:
    return orjson.dumps(obj)


__all__ = ["JSONDecodeError", "dumps", "dumps_bytes", "loads"]
