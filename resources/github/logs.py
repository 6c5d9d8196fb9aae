"""Logs never carry signed URLs or tokens: ``scrub_text`` and the filter on the httpx/httpcore loggers
(installed when ``resources.github`` is imported)."""

from __future__ import annotations

import logging
import re

# "?" up to the end of a URL/path token, when the token carries a query (key=value)
_QUERY_RE = re.compile(r"\?[^\s'\"<>()\[\],]*=[^\s'\"<>()\[\],]*")
_SIG_RE = re.compile(r"(?i)[?&;]?\bsig=[^\s&'\"<>]*")
_BEARER_RE = re.compile(r"(?i)\b(bearer|token)(\s+|%20)[A-Za-z0-9_\-.~+/=]{8,}")
TOKEN_RE = re.compile(r"\b(gh[opusr]_[A-Za-z0-9_]{10,}|github_pat_[A-Za-z0-9_]{10,})\b")


def scrub_text(text: str) -> str:
    """Drop every URL/path query string (signed links carry ``sig``/``se``/``st``) and any token."""
    text = _QUERY_RE.sub("", text)
    text = _SIG_RE.sub("", text)
    text = _BEARER_RE.sub(r"\1 [redacted]", text)
    return TOKEN_RE.sub("[redacted]", text)


class _DropUrlQueries(logging.Filter):
    """On the httpx/httpcore loggers: httpx logs "HTTP Request: GET <full url> ..." at INFO and httpcore
    traces requests/headers at DEBUG. The record is rendered once, its URL queries dropped, and kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is not ours to fix; never let its raw args through
            message = str(record.msg)
        record.msg = scrub_text(message)
        record.args = None
        return True


HTTP_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)
_URL_FILTER = _DropUrlQueries()


def install_log_filter() -> None:
    """Idempotent; run at import. Logger filters do not apply to child loggers, hence the full list."""
    for name in HTTP_LOGGERS:
        lg = logging.getLogger(name)
        if not any(isinstance(f, _DropUrlQueries) for f in lg.filters):
            lg.addFilter(_URL_FILTER)


install_log_filter()
