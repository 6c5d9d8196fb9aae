"""A team's report as ONE self-contained HTML file: charts embedded as data URIs, inline CSS, no script and no
network request — it opens offline and can be sent to a team lead as it is. Every string from the data is
escaped."""

from __future__ import annotations

import base64
from html import escape
from typing import Any

from report_assets.charts import chart_png
from report_assets.series import CHARTS, TeamReportData
from resources.statuses import hint_for

CSS = """
body{font:14px/1.45 -apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1f2328;max-width:980px;margin:24px auto;
padding:0 16px}h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;
padding-bottom:4px}.muted{color:#57606a}.status{display:inline-block;padding:2px 8px;border-radius:10px;
font-weight:600}.connected{background:#dafbe1}.warn{background:#fff8c5}.bad{background:#ffebe9}
table{border-collapse:collapse;width:100%;font-size:13px}td,th{border-bottom:1px solid #eaeef2;padding:4px 6px;
text-align:left;vertical-align:top}img{max-width:100%;display:block;margin:6px 0 14px}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:-2px}
"""


def _status_class(status: str) -> str:
    return {"connected": "connected", "insufficient_licenses": "warn"}.get(status, "bad")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if abs(value) >= 1000 or value.is_integer():
            return f"{value:,.0f}"  # 40,537 and 1,401, never 4.054e+04
        return f"{value:,.4g}"
    return escape(str(value))


def team_report_html(data: TeamReportData) -> str:
    t = data.team
    covered, window = data.coverage
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Copilot report: {escape(t.slug)}"
             f"</title><style>{CSS}</style></head><body>",
             f"<h1>Copilot usage: {escape(t.name)} <span class=muted>({escape(t.slug)}, org "
             f"{escape(t.github_org)})</span></h1>",
             f"<p class=muted>{data.start} to {data.end} · data coverage of the last {window} days: "
             f"<b>{covered}/{window} days</b></p>",
             f"<p><span class='status {_status_class(t.copilot_status)}'>{escape(t.copilot_status)}</span> "
             + (f"({escape(t.copilot_status_reason)}) " if t.copilot_status_reason else "")
             + f"{escape(hint_for(t.copilot_status, t.copilot_status_reason, t.slug))}</p>"]

    ins = data.insight
    parts.append("<h2>Insight</h2>")
    if ins is None:
        parts.append("<p class=muted>No insight yet (insights are written for connected teams after a sync).</p>")
    else:
        parts.append(f"<p><b>{escape(ins['headline'])}</b></p><p>{escape(ins['detail'])}</p>"
                     f"<p><i>Recommendation:</i> {escape(ins['recommendation'])}</p>"
                     f"<p class=muted>{escape(str(ins['day']))} · source {escape(ins['source'])}"
                     + (f" ({escape(ins['model'])})" if ins.get("model") else "") + "</p>")
        if ins["cited_numbers"]:
            rows = "".join(f"<tr><td>{escape(c['metric'])}</td><td>{_fmt(c['value'])}</td></tr>"
                           for c in ins["cited_numbers"])
            parts.append(f"<table><tr><th>number cited</th><th>value (a stored fact)</th></tr>{rows}</table>")

    parts.append("<h2>Trends</h2><p class='legend muted'>"
                 "<span style='background:#d0d7de'></span>no report from GitHub"
                 "<span style='background:#ffcecb'></span>missing (re-fetched nightly)"
                 "<span style='border-left:2px dashed #57606a;width:0'></span>GitHub changed a definition</p>")
    if data.first_data_day and data.first_data_day > data.start:
        parts.append(f"<p class=muted>History starts {data.first_data_day}: earlier days were never synced "
                     "(backfill them from the Dagster UI: Materialize → choose dates).</p>")
    for day, why in data.changes:
        parts.append(f"<p class=muted>{day}: {escape(why)}</p>")
    charts = data.charts()
    if not charts:
        parts.append("<p class=muted>No Copilot data stored for this period.</p>")
    for chart in charts:
        b64 = base64.b64encode(chart_png(data, chart)).decode()
        parts.append(f"<img alt='{escape(CHARTS[chart])}' src='data:image/png;base64,{b64}'>")

    parts.append("<h2>Status history</h2>")
    if data.status_events:
        rows = "".join(
            f"<tr><td>{escape(e['at'].strftime('%Y-%m-%d %H:%M UTC'))}</td><td>{escape(e['event'])}</td>"
            f"<td>{escape(e['from_status'] or '-')} → {escape(e['to_status'])}</td>"
            f"<td>{escape(e['reason'] or '')}</td><td>{escape(e['actor'])}</td></tr>"
            for e in data.status_events)
        parts.append(f"<table><tr><th>when</th><th>event</th><th>status</th><th>reason</th><th>by</th></tr>{rows}"
                     "</table>")
    else:
        parts.append("<p class=muted>No status change recorded.</p>")
    parts.append("<p class=muted>Copilot Data Flow · numbers from GitHub's Copilot usage-metrics reports</p>"
                 "</body></html>")
    return "".join(parts)


__all__ = ["team_report_html"]
