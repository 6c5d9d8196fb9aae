"""All teams side by side — adoption, acceptance rate, seat utilisation, status, coverage — with the teams that
need attention first. Three aggregate queries for every team at once (not one per team), so a 1,000-team
overview is quick."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta

from copilot_assets.metrics import WINDOW_DAYS, acceptance_rate
from resources import queries
from resources.statuses import CONNECTED
from resources.store import Store

LOW_ADOPTION = 0.5  # average daily active users below half the seats
LOW_UTILISATION = 0.8  # fewer than 80 % of the seats active this billing cycle


@dataclass(frozen=True)
class TeamRow:
    slug: str
    status: str
    reason: str | None
    adoption: float | None  # mean daily active users of the window / seats of the latest snapshot
    acceptance_rate: float | None  # acceptances / generations over the window
    seat_utilisation: float | None  # active seats / seats of the latest snapshot
    coverage: int  # days of the window with usage data
    window: int
    attention: tuple[str, ...]  # why the team needs attention, most serious first

    @property
    def score(self) -> tuple[int, ...]:
        """Sort key: not connected, then gaps, then low adoption / utilisation; ties by slug."""
        return (0 if self.status != CONNECTED else 1, self.coverage, -len(self.attention))


def _ratio(num: float | None, den: float | None) -> float | None:
    return None if num is None or not den else num / den


def overview_rows(store: Store, end: date, window: int = WINDOW_DAYS) -> list[TeamRow]:
    """One row per team, the teams needing attention first."""
    start = end - timedelta(days=window - 1)
    with store.engine.connect() as conn:
        usage = queries.usage_totals_all_teams(conn, start, end)
        seats = queries.latest_seats_all_teams(conn, end)
    rows = []
    for t in store.list_teams():
        u = usage.get(t.id, {})
        s = seats.get(t.id, {})
        adoption = _ratio(u.get("dau_avg"), s.get("total_seats"))
        util = _ratio(s.get("active_seats"), s.get("total_seats"))
        coverage = int(u.get("days", 0))
        why = []
        if t.copilot_status != CONNECTED:
            why.append(t.copilot_status + (f" ({t.copilot_status_reason})" if t.copilot_status_reason else ""))
        if coverage < window:
            why.append(f"coverage {coverage}/{window}")
        if adoption is not None and adoption < LOW_ADOPTION:
            why.append(f"adoption {adoption:.0%}")
        if util is not None and util < LOW_UTILISATION:
            why.append(f"seat utilisation {util:.0%}")
        rows.append(TeamRow(
            slug=t.slug, status=t.copilot_status, reason=t.copilot_status_reason, adoption=adoption,
            acceptance_rate=acceptance_rate(u.get("generations"), u.get("acceptances")), seat_utilisation=util,
            coverage=coverage, window=window, attention=tuple(why)))
    return sorted(rows, key=lambda r: (*r.score, r.slug))


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.0%}"


def overview_markdown(rows: list[TeamRow], limit: int = 50) -> str:
    head = ("| team | status | adoption | acceptance | seat utilisation | coverage | needs attention |\n"
            "|---|---|---|---|---|---|---|\n")
    body = "\n".join(
        f"| {r.slug} | {r.status} | {_pct(r.adoption)} | {_pct(r.acceptance_rate)} | {_pct(r.seat_utilisation)} "
        f"| {r.coverage}/{r.window} | {', '.join(r.attention) or '–'} |" for r in rows[:limit])
    more = f"\n\n… and {len(rows) - limit} more teams" if len(rows) > limit else ""
    return head + body + more


def overview_png(rows: list[TeamRow]) -> bytes:
    """Adoption against acceptance rate, one dot per team (red: not connected); teams without data left out."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    fig = Figure(figsize=(7.2, 3.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    pts = [r for r in rows if r.adoption is not None and r.acceptance_rate is not None]
    for connected, color, label in ((True, "#1f6feb", "connected"), (False, "#cf222e", "needs reconnection")):
        sel = [r for r in pts if (r.status == CONNECTED) is connected]
        ax.scatter([min(r.adoption, 1.5) for r in sel], [r.acceptance_rate for r in sel], s=14, color=color,
                   alpha=0.7, label=f"{label} ({len(sel)})")
    ax.axvline(LOW_ADOPTION, color="#57606a", lw=0.8, ls="--")
    ax.set_xlim(0, max([1.05, *(min(r.adoption, 1.5) + 0.05 for r in pts)]))
    ax.set_ylim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    ax.set_xlabel("adoption (daily active users / seats)", fontsize=8)
    ax.set_ylabel("acceptance rate", fontsize=8)
    ax.set_title(f"{len(rows)} teams, last {rows[0].window if rows else WINDOW_DAYS} days", fontsize=9, loc="left")
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, frameon=False)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    return buf.getvalue()


__all__ = ["TeamRow", "overview_markdown", "overview_png", "overview_rows"]
