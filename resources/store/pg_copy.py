"""Bulk inserts on PostgreSQL with ``COPY … FROM STDIN`` (text format), for the sync's team-day writes.

A nightly run writes ≈ 100 rows per team-day into a dozen tables. Through SQLAlchemy's multi-row ``INSERT`` every
value is bound, rendered into the statement and quoted again by psycopg2 — the largest part of a run worker's
store writes (issue 20 profile, docs/benchmarks.md). ``COPY`` takes the rows as one tab-separated text buffer.

``copy_rows`` writes the same rows an ``INSERT`` of them would: only the columns the rows name (server defaults
fill the others), ``NULL`` for ``None``, each value in PostgreSQL's text input form. It returns False, writing
nothing, when it cannot promise that — not psycopg2, rows with different keys, a key that is not a column, a
value of a kind it does not know — and the caller inserts those rows the usual way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from io import StringIO
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

NULL = "\\N"


class _Unsupported(Exception):
    """A value ``copy_rows`` does not write: the caller falls back to ``INSERT``."""


def text_value(v: str) -> str:
    """A string in COPY's text format: backslash, tab, newline and carriage return escaped."""
    if "\\" in v:
        v = v.replace("\\", "\\\\")
    if "\t" in v:
        v = v.replace("\t", "\\t")
    if "\n" in v:
        v = v.replace("\n", "\\n")
    if "\r" in v:
        v = v.replace("\r", "\\r")
    return v


def _fmt_str(v: Any) -> str:
    if type(v) is str:
        return text_value(v)
    if isinstance(v, bool | int | float | Decimal):  # psycopg2 sends these as literals PostgreSQL casts
        return _fmt_num(v)
    raise _Unsupported(type(v).__name__)


def _fmt_int(v: Any) -> str:
    if type(v) is int:
        return str(v)
    if type(v) is str:
        return text_value(v)
    raise _Unsupported(type(v).__name__)


def _fmt_num(v: Any) -> str:
    t = type(v)
    if t is bool:
        return "true" if v else "false"
    if t is int or t is Decimal:
        return str(v)
    if t is float:
        return repr(v)  # 'nan', 'inf', '-inf' and round-tripping digits: PostgreSQL reads them all
    if t is str:
        return text_value(v)
    raise _Unsupported(t.__name__)


def _fmt_bool(v: Any) -> str:
    if type(v) is bool:
        return "t" if v else "f"
    raise _Unsupported(type(v).__name__)


def _fmt_day(v: Any) -> str:
    if type(v) is date:
        return v.isoformat()
    raise _Unsupported(type(v).__name__)


def _fmt_ts(v: Any) -> str:
    if type(v) is datetime:
        return v.isoformat()  # an aware time keeps its offset; a naive one means the session's zone, as INSERT
    raise _Unsupported(type(v).__name__)


def formatter(column: sa.Column) -> Callable[[Any], str]:
    """The text-format writer of one column's non-null values, by the column's type."""
    t = column.type
    if isinstance(t, sa.Boolean):
        return _fmt_bool
    if isinstance(t, sa.DateTime):
        return _fmt_ts
    if isinstance(t, sa.Date):
        return _fmt_day
    if isinstance(t, sa.Integer):
        return _fmt_int
    if isinstance(t, sa.Float | sa.Numeric):
        return _fmt_num
    if isinstance(t, sa.String):  # String, Text
        return _fmt_str
    raise _Unsupported(f"column {column.name} of type {t}")


def copy_buffer(table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> tuple[list[str], str] | None:
    """(columns, COPY text) of ``rows``, or None when they cannot be written by COPY as INSERT would."""
    if not rows:
        return None
    keys = list(rows[0])
    key_set = set(keys)
    try:
        fmts = [formatter(table.c[k]) for k in keys]
    except (KeyError, _Unsupported):
        return None
    out: list[str] = []
    try:
        for r in rows:
            if r.keys() != key_set:
                return None
            out.append("\t".join([NULL if (v := r[k]) is None else f(v) for k, f in zip(keys, fmts, strict=True)]))
    except _Unsupported:
        return None
    out.append("")
    return keys, "\n".join(out)


def copy_rows(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> bool:
    """``COPY`` ``rows`` into ``table`` on this connection (in its transaction). False = nothing written: the
    caller inserts them the usual way."""
    if conn.dialect.name != "postgresql":
        return False
    built = copy_buffer(table, rows)
    if built is None:
        return False
    cols, body = built
    prep = conn.dialect.identifier_preparer
    sql = (f"COPY {prep.format_table(table)} ({', '.join(prep.quote(c) for c in cols)}) "
           "FROM STDIN WITH (FORMAT text)")
    dbapi = conn.dialect.loaded_dbapi
    raw = conn.connection.dbapi_connection
    cur = raw.cursor()
    try:
        if not hasattr(cur, "copy_expert"):  # psycopg2's; another driver inserts the usual way
            return False
        cur.copy_expert(sql, StringIO(body), size=max(8192, len(body)))
    except dbapi.Error as exc:
        # as SQLAlchemy does for its own statements: the same exception classes as INSERT (sa.exc.IntegrityError,
        # …), and a lost connection invalidated so the transaction's end does not fail on it again
        lost = conn.dialect.is_disconnect(exc, raw, cur)
        if lost:
            conn.invalidate(exc)
        raise sa.exc.DBAPIError.instance(sql, None, exc, dbapi.Error, connection_invalidated=lost,
                                         dialect=conn.dialect) from exc
    finally:
        try:
            cur.close()
        except dbapi.Error:
            pass
    return True


__all__ = ["copy_buffer", "copy_rows", "formatter", "text_value"]
