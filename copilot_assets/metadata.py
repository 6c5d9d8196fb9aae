"""Metadata formatting for the Dagster UI: markdown previews of rows and the lines of a run's Failure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dagster as dg


def preview_md(rows: Sequence[dict[str, Any]], columns: Sequence[str], limit: int = 5) -> dg.MetadataValue:
    if not rows:
        return dg.MetadataValue.md("_no rows_")
    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    body = "\n".join("| " + " | ".join(_cell(r.get(c)) for c in columns) + " |" for r in rows[:limit])
    return dg.MetadataValue.md(head + body)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|")[:40] if value is not None else ""


def failure_lines(records: Sequence[dict[str, Any]], limit: int = 50) -> str:
    """One line per team and error over its consecutive failed days (``acme 2026-11-04..2026-12-01 (28
    days): token_revoked (…)``), not one per team-day: a revoked token fails every day of a range alike."""
    groups: list[list[dict[str, Any]]] = []
    for rec in records:
        last = groups[-1][-1] if groups else None
        if last is not None and (last["team"], last["error_kind"], last.get("message")) == (
                rec["team"], rec["error_kind"], rec.get("message")):
            groups[-1].append(rec)
        else:
            groups.append([rec])
    lines = []
    for g in groups[:limit]:
        days = g[0]["day"] if len(g) == 1 else f"{g[0]['day']}..{g[-1]['day']} ({len(g)} days)"
        lines.append(f"- {g[0]['team']} {days}: {g[0]['error_kind']} ({g[0].get('message')})")
    if len(groups) > limit:
        lines.append(f"- … and {len(groups) - limit} more (failed_team_days in the metadata has every one)")
    return "\n".join(lines)
