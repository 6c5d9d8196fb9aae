"""PNG charts of a team report (matplotlib, Agg backend, no display): one figure per chart, and one compact
grid of all of them for the Dagster UI.

Gaps stay gaps: a day without a value breaks the line (never a drop to zero); days GitHub had no report for
are shaded grey, days still missing shaded red, and GitHub's semantic changes drawn as dashed lines.
Figures are built with ``matplotlib.figure.Figure`` (no pyplot global state), so rendering is thread-safe.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, timedelta

from report_assets.series import CHARTS, Series, TeamReportData

COLORS = ("#1f6feb", "#8250df", "#bf8700", "#1a7f37", "#cf222e")
NO_REPORT_COLOR = "#d0d7de"
MISSING_COLOR = "#ffcecb"
DPI = 80


def _spans(days: Sequence[date]) -> list[tuple[date, date]]:
    """Consecutive days → (first, last) spans."""
    out: list[tuple[date, date]] = []
    for d in sorted(days):
        if out and d == out[-1][1] + timedelta(days=1):
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def isolated_points(ys: Sequence[float]) -> list[int]:
    """Indices of values (not NaN) with no value on either side: a line chart would not show them."""
    def has(j: int) -> bool:
        return 0 <= j < len(ys) and ys[j] == ys[j]

    return [k for k in range(len(ys)) if has(k) and not has(k - 1) and not has(k + 1)]


def _draw(ax, data: TeamReportData, chart: str, lines: list[Series], *, legend: bool = True) -> None:
    import matplotlib.dates as mdates

    for first, last in _spans(data.no_report_days):
        ax.axvspan(first, last + timedelta(days=1), color=NO_REPORT_COLOR, lw=0)
    for first, last in _spans(data.missing_days):
        ax.axvspan(first, last + timedelta(days=1), color=MISSING_COLOR, lw=0)
    for day, _why in data.changes:
        ax.axvline(day, color="#57606a", lw=0.8, ls="--")
    for i, s in enumerate(lines):
        xs = data.days
        ys = [float("nan") if s.points[d] is None else s.points[d] for d in xs]
        if s.spec.name == "seats":  # a snapshot per night at most: a step line through the snapshots
            pts = [(d, v) for d, v in zip(xs, ys, strict=True) if v == v]
            if pts:
                ax.step([p[0] for p in pts], [p[1] for p in pts], where="post", color="#57606a", lw=1.2,
                        marker="s", markersize=3, label=s.spec.label)
            continue
        color = COLORS[i % len(COLORS)]
        ax.plot(xs, ys, color=color, lw=1.4, marker="." if len(xs) <= 31 else None, label=s.spec.label)
        alone = isolated_points(ys)  # no line to sit on: drawn as dots
        if alone:
            ax.plot([xs[k] for k in alone], [ys[k] for k in alone], ls="", marker="o", markersize=3.5, color=color)
    if chart == "acceptance":
        ax.yaxis.set_major_formatter(_percent())
    ax.set_xlim(data.start, data.end + timedelta(days=1))
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=6))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
    ax.grid(axis="y", color="#eaeef2", lw=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=7)
    if legend and (len(lines) > 1 or chart == "adoption"):
        ax.legend(fontsize=6, loc="upper left", frameon=False)


def _percent():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)


def _png(fig) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def chart_png(data: TeamReportData, chart: str) -> bytes:
    """One chart as a PNG (for the HTML report)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.2, 2.4), layout="constrained")
    ax = fig.add_subplot()
    _draw(ax, data, chart, data.charts()[chart])
    ax.set_title(CHARTS[chart], fontsize=9, loc="left")
    return _png(fig)


def grid_png(data: TeamReportData) -> bytes:
    """Every present chart of the team in one compact image (for the asset's materialization metadata)."""
    from matplotlib.figure import Figure

    charts = data.charts()
    n = max(1, len(charts))
    cols = 2
    rows = -(-n // cols)
    fig = Figure(figsize=(9.6, 2.1 * rows), layout="constrained")
    for i, (chart, lines) in enumerate(charts.items()):
        ax = fig.add_subplot(rows, cols, i + 1)
        _draw(ax, data, chart, lines)
        ax.set_title(CHARTS[chart], fontsize=8, loc="left")
    synced = f", synced from {data.first_data_day}" if data.first_data_day and data.first_data_day > data.start else ""
    fig.suptitle(f"{data.team.slug}: {data.start} to {data.end}{synced} (grey: no report from GitHub, red: missing, "
                 "dashed: GitHub changed a definition)", fontsize=8, x=0.01, ha="left")
    return _png(fig)


__all__ = ["chart_png", "grid_png"]
