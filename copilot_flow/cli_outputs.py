"""`copilot-flow insights show`, `export` and `report`: what the CLI writes out of the store (a team's insight,
its rows as CSV/Parquet, its HTML report). Registered on the main group by cli.py."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from resources.validation import InvalidInput


def register(main: click.Group, friendly_errors, store_factory) -> None:
    """Add ``insights``, ``export`` and ``report`` to the CLI (``friendly_errors`` and ``store_factory``
    come from cli.py)."""

    # ---------------------------------------------------------------------------- insights
    @main.group()
    def insights() -> None:
        """LLM insights per team-day."""


    @insights.command("show")
    @click.argument("slug")
    @click.option("--date", "day", help="YYYY-MM-DD (default: the latest insight)")
    @friendly_errors
    def insights_show(slug: str, day: str | None) -> None:
        import json

        from resources import queries
        from resources.validation import parse_day

        store = store_factory()
        team = store.get_team(slug)
        with store.engine.connect() as conn:
            if day:
                d = parse_day(day)
                rows = queries.team_rows(conn, "insights", team.id, d, d)
                row = rows[0] if rows else None
            else:
                row = queries.latest_team_row(conn, "insights", team.id)
        if row is None:
            raise InvalidInput(f"no insight for team {slug}" + (f" on {day}" if day else "") +
                               " (insights are generated for connected teams after a sync)")
        click.echo(f"{slug} {row['day']}  source: {row['source']}" + (f" ({row['model']})" if row["model"] else "")
                   + (f"  fallback: {row['fallback_reason']}" if row["fallback_reason"] else ""))
        click.echo(f"\n{row['headline']}\n\n{row['detail']}\n\nRecommendation: {row['recommendation']}")
        for a in json.loads(row["actions"]):
            click.echo(f"  - {a.get('label')}  [{a.get('metric')}]")
        click.echo(f"tokens in/out {row['input_tokens']}/{row['output_tokens']} "
                   f"(cache read {row['cache_read_input_tokens']}), est. cost ${row['cost_usd']:.5f}")


    # ---------------------------------------------------------------------------- export
    @main.command("export")
    @click.option("--team", "team_slug", required=True, help="team slug")
    @click.option("--from", "start", required=True, metavar="YYYY-MM-DD", help="first day (inclusive)")
    @click.option("--to", "end", required=True, metavar="YYYY-MM-DD", help="last day (inclusive)")
    @click.option("--format", "fmt", default="csv", show_default=True, metavar="csv|parquet")
    @click.option("--out", required=True, metavar="FILE", help="output file (written atomically)")
    @friendly_errors
    def export_cmd(team_slug: str, start: str, end: str, fmt: str, out: str) -> None:
        """One row per team-day in [from, to]: usage, seat snapshot and insight of that team only."""
        from copilot_flow.export import export, validate_request

        req = validate_request(team_slug, start, end, fmt, out)
        frame = export(store_factory(), req)
        click.echo(f"wrote {len(frame)} team-day rows of {team_slug} ({req.start}..{req.end}) to {req.out} "
                   f"as {req.fmt}")


    # ---------------------------------------------------------------------------- report
    @main.command("report")
    @click.argument("slug")
    @click.option("--out", required=True, metavar="FILE", help="the HTML file to write (atomically)")
    @click.option("--end", "end", metavar="YYYY-MM-DD", help="last day (default: yesterday, UTC)")
    @click.option("--days", default=90, show_default=True, help="days of history in the charts (7..400)")
    @friendly_errors
    def report_cmd(slug: str, out: str, end: str | None, days: int) -> None:
        """One self-contained HTML report of a team (charts embedded, opens offline): trends, insight, status."""
        from datetime import timedelta

        from copilot_flow.files import out_path, write_atomic
        from report_assets.html import team_report_html
        from report_assets.series import team_report_data
        from resources.validation import parse_day

        path = out_path(out)
        if not 7 <= days <= 400:
            raise InvalidInput(f"--days {days} is out of range: use 7..400")
        last = parse_day(end, "--end date") if end else datetime.now(UTC).date() - timedelta(days=1)
        store = store_factory()
        team = store.get_team(slug)
        html = team_report_html(team_report_data(store, team, last, days))

        def write(tmp: str) -> None:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(html)

        write_atomic(path, write)
        click.echo(f"wrote the {days}-day report of {slug} ({last - timedelta(days=days - 1)}..{last}) to {path} "
                   f"({len(html) // 1024} KiB, self-contained)")
