"""Asset checks over the stored history (run with the assets they check)."""


from datetime import UTC, datetime, timedelta

import dagster as dg
import sqlalchemy as sa

from resources import tables

COVERAGE_DAYS = 28


def duplicate_team_days(conn: sa.Connection, table: sa.Table) -> int:
    grouped = (
        sa.select(table.c.team_id, table.c.day)
        .group_by(table.c.team_id, table.c.day)
        .having(sa.func.count() > 1)
        .subquery()
    )
    return int(conn.execute(sa.select(sa.func.count()).select_from(grouped)).scalar_one())


def coverage_by_team(conn: sa.Connection, today: datetime | None = None, days: int = COVERAGE_DAYS) -> dict[str, int]:
    """Days of the last ``days`` complete days with usage rows or an observed 'no report', per connected team."""
    end = (today or datetime.now(UTC)).date() - timedelta(days=1)
    start = end - timedelta(days=days - 1)
    t, u, o = tables.teams, tables.copilot_usage_daily, tables.copilot_report_observations
    covered = sa.union(
        sa.select(u.c.team_id, u.c.day).where(u.c.day.between(start, end)),
        sa.select(o.c.team_id, o.c.day).where(o.c.day.between(start, end), o.c.report == "organization-1-day"),
    ).subquery()
    q = (
        sa.select(t.c.slug, sa.func.count(covered.c.day))
        .select_from(t.outerjoin(covered, covered.c.team_id == t.c.id))
        .where(t.c.copilot_status == "connected")
        .group_by(t.c.slug)
        .order_by(t.c.slug)
    )
    return {slug: int(n) for slug, n in conn.execute(q)}


CHECK_NO_DUPLICATES = "no_duplicate_team_days"
CHECK_RATE_RANGE = "acceptance_rate_in_range"
CHECK_COVERAGE = "coverage_28d"

USAGE_CHECK_SPECS = [
    dg.AssetCheckSpec(CHECK_NO_DUPLICATES, asset="copilot_usage",
                      description="No team-day appears twice in copilot_usage_daily."),
    dg.AssetCheckSpec(CHECK_RATE_RANGE, asset="copilot_usage",
                      description="Every stored acceptance rate lies within [0, 1]."),
    dg.AssetCheckSpec(CHECK_COVERAGE, asset="copilot_usage",
                      description="Per connected team, how many of the last 28 complete days have usage or an "
                      "observed 'no report' (gaps are re-pulled by the nightly)."),
]


def usage_check_results(engine: sa.Engine) -> list[dg.AssetCheckResult]:
    """The copilot_usage checks, evaluated over the whole stored history at the end of each run."""
    u = tables.copilot_usage_daily
    with engine.connect() as conn:
        dupes = duplicate_team_days(conn, u)
        bad = int(conn.execute(sa.select(sa.func.count()).where(
            sa.or_(u.c.acceptance_rate < 0, u.c.acceptance_rate > 1)
        )).scalar_one())
        cov = coverage_by_team(conn)
    gaps = {k: v for k, v in cov.items() if v < COVERAGE_DAYS}
    cov_md: dict[str, object] = {f"coverage_{k}": f"{v}/{COVERAGE_DAYS}" for k, v in cov.items()}
    cov_md["teams_with_gaps"] = len(gaps)
    return [
        dg.AssetCheckResult(check_name=CHECK_NO_DUPLICATES, passed=dupes == 0,
                            metadata={"duplicate_team_days": dupes}),
        dg.AssetCheckResult(check_name=CHECK_RATE_RANGE, passed=bad == 0, metadata={"rows_out_of_range": bad}),
        dg.AssetCheckResult(check_name=CHECK_COVERAGE, passed=not gaps, severity=dg.AssetCheckSeverity.WARN,
                            metadata=cov_md),
    ]
