"""Re-deriving from copilot_raw_reports: a year of raw reports stored the way the previous version did (its
rows without the 2026 columns, tables and parser versions, its rounded ratios) comes out of
``copilot_rederive_job`` equal to a fresh sync of the same days; a second run changes nothing; no GitHub call
is made; day states are untouched. ``copilot-flow rederive`` does the same."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from typing import Any

import dagster as dg
import sqlalchemy as sa
from click.testing import CliRunner
from flow_support import SEATS, USAGE, USER_USAGE, today

from copilot_assets import derive
from copilot_assets.parsing import PARSER_VERSION
from copilot_assets.rederive import copilot_rederive_job
from copilot_flow.cli import main as cli
from resources import tables
from resources.github import ORG_1_DAY, USER_TEAMS_AVAILABLE_FROM, USER_TEAMS_REPORT, USERS_1_DAY
from resources.store import utcnow
from simulators import github_data as gd

ORG = "rederive-org"
SEATS_N = 25
DERIVED = (*derive.USAGE_TABLES, *derive.USER_TABLES)
NEW_IN_2026 = {"copilot_pull_request_daily", "copilot_pr_suggestion_daily", "copilot_cli_daily",
               "copilot_app_daily", "copilot_third_party_agent_daily"}
OLD_COLUMNS_DROPPED = {*tables.SURFACE_USER_FIELDS, *tables.USER_SURFACE_FLAGS, "ai_credits_used",
                       "ai_adoption_phase", "ai_adoption_phase_number"}
VOLATILE = {"team_id", "fetched_at", "source_report"}


def _as_old_parser(name: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows the previous parser stored: no 2026 tables or columns, no parser version, rounded ratios."""
    if name in NEW_IN_2026:
        return []
    out = []
    for r in rows:
        old = {k: (None if k in OLD_COLUMNS_DROPPED or k == "parser_version" else v) for k, v in r.items()}
        if old.get("acceptance_rate") is not None:
            old["acceptance_rate"] = round(old["acceptance_rate"], 4)
        out.append(old)
    return out


def _store_like_the_previous_version(flow, team_id: int, days: list) -> None:
    """Raw payloads as the simulator serves them, and the previous parser's rows, one team-day at a time."""
    for d in days:
        org_obj = gd.org_day(ORG, d, SEATS_N)
        users = list(gd.users_1_day_rows(ORG, d, SEATS_N))
        raw = {ORG_1_DAY: [org_obj], USERS_1_DAY: users}
        team_records = None
        if d >= USER_TEAMS_AVAILABLE_FROM:
            team_records = raw[USER_TEAMS_REPORT] = list(gd.user_teams_rows(ORG, d, SEATS_N))
        now = utcnow()
        rows = {**derive.usage_tables(org_obj, d, ORG_1_DAY, now)[1],
                **derive.user_usage_tables(users, team_records, d, Counter())[0]}
        old = {name: _as_old_parser(name, r) for name, r in rows.items()}
        flow.store.replace_team_day(team_id, d, {k: v for k, v in old.items() if k not in NEW_IN_2026},
                                    raw_reports=raw, day_state_of="copilot_usage", raw_fetched_at=now)
        flow.store.replace_team_day(team_id, d, {}, day_state_of="copilot_user_usage")


def _all_rows(flow, table: str, team_id: int, drop: set[str]) -> list[dict[str, Any]]:
    t = tables.metadata.tables[table]
    with flow.store.engine.connect() as conn:
        rows = conn.execute(sa.select(t).where(t.c.team_id == team_id).order_by(*t.primary_key.columns))
        return [{k: v for k, v in r._mapping.items() if k not in drop} for r in rows]


def _day_states(flow, team_id: int) -> list[tuple]:
    s = tables.copilot_day_status
    with flow.store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(s).where(s.c.team_id == team_id).order_by(s.c.day,
                                                                                                     s.c.asset))]


def _run_job(flow, slug: str, start, end) -> dg.ExecuteInProcessResult:
    res = flow.resources()
    return copilot_rederive_job.execute_in_process(
        run_config={"ops": {"copilot_rederive": {"config": {"teams": [slug], "from": start.isoformat(),
                                                            "to": end.isoformat()}}}},
        instance=flow.instance, resources={"store": res["store"], "cost": res["cost"]}, raise_on_error=False)


def test_a_year_of_raw_reports_rederives_to_the_rows_of_a_fresh_sync(flow) -> None:
    end = today() - timedelta(days=1)
    start = today() - timedelta(days=365)
    days = [start + timedelta(days=k) for k in range((end - start).days + 1)]
    assert len(days) == 365

    flow.add_team("fresh", ORG, seats=SEATS_N)
    assert flow.range_run("fresh", "fresh", start, end, USAGE, USER_USAGE).success
    old = flow.store.add_team("old", name="Stored by the previous version", github_org=ORG)
    _store_like_the_previous_version(flow, old.id, days)
    fresh_id = flow.teams["fresh"].id
    assert _all_rows(flow, "copilot_pull_request_daily", old.id, VOLATILE) == []
    states_before = _day_states(flow, old.id)
    flow.sim_state.clear_requests()

    first = _run_job(flow, "old", start, end)
    assert first.success
    [out] = [e for e in first.all_events if e.event_type == dg.DagsterEventType.STEP_OUTPUT]
    assert out.event_specific_data.metadata["team_days"].value == 365
    for name in DERIVED:
        got = _all_rows(flow, name, old.id, VOLATILE)
        want = _all_rows(flow, name, fresh_id, VOLATILE)
        assert got == want, name
        assert got or name in ("copilot_app_daily",), name  # every table gained its rows (app: on some days)
        assert all(r["parser_version"] == PARSER_VERSION for r in got), name
    assert {r["source_report"] for r in _all_rows(flow, "copilot_usage_daily", old.id, set())} == {ORG_1_DAY}
    assert _all_rows(flow, "copilot_app_daily", old.id, VOLATILE)  # the app exists since 2026-07-28

    after_first = {name: _all_rows(flow, name, old.id, set()) for name in DERIVED}
    second = _run_job(flow, "old", start, end)
    assert second.success
    assert {name: _all_rows(flow, name, old.id, set()) for name in DERIVED} == after_first  # idempotent
    assert flow.sim_state.request_log() == []  # no GitHub call, not even for the team's org
    assert _day_states(flow, old.id) == states_before  # a team-day with data stays data


def test_seat_snapshots_rederive_and_the_cli_command(flow, monkeypatch) -> None:
    flow.add_team("acme", ORG, enterprise_every=3)
    day = today() - timedelta(days=1)
    assert flow.team_day("acme", day, SEATS, USAGE).success
    team_id = flow.teams["acme"].id
    names = ("copilot_seat_snapshots", "copilot_seat_plan_daily", *derive.USAGE_TABLES)
    synced = {n: _all_rows(flow, n, team_id, {"team_id"}) for n in names}
    # as if stored before the costs and plans existed: re-derive fills them from the raw billing and seats
    with flow.store.engine.begin() as conn:
        conn.execute(tables.copilot_seat_plan_daily.delete())
        conn.execute(tables.copilot_seat_snapshots.update().values(seat_cost_usd=None, parser_version=None))
        conn.execute(tables.copilot_pull_request_daily.delete())
    flow.sim_state.clear_requests()
    monkeypatch.setenv("COPILOT_FLOW_DATABASE_URL", flow.store_url)
    r = CliRunner().invoke(cli, ["rederive", "--team", "acme", "--from", day.isoformat(), "--to",
                                 day.isoformat()])
    assert r.exit_code == 0, r.output
    assert "acme: 1 team-day(s) re-derived" in r.output
    assert {n: _all_rows(flow, n, team_id, {"team_id"}) for n in names} == synced
    assert flow.sim_state.request_log() == []
    bad = CliRunner().invoke(cli, ["rederive", "--team", "nope", "--from", day.isoformat(), "--to",
                                   day.isoformat()])
    assert bad.exit_code == 2 and "unknown team 'nope'" in bad.output


def test_an_unparsable_raw_report_is_kept_listed_and_never_a_status_outcome(flow) -> None:
    from copilot_assets.failure_sensor import touches_sync_assets

    flow.add_team("acme", ORG, seats=SEATS_N)
    team_id = flow.teams["acme"].id
    days = [today() - timedelta(days=k) for k in (12, 11, 10)]
    _store_like_the_previous_version(flow, team_id, days)
    bad_day = days[1]
    with flow.store.engine.begin() as conn:  # a raw copy today's parser cannot read
        r = tables.copilot_raw_reports
        conn.execute(r.update().where(r.c.team_id == team_id, r.c.day == bad_day, r.c.report == ORG_1_DAY)
                     .values(payload=json.dumps([{"day": bad_day.isoformat(), "daily_active_users": "many"}])))
    before_bad = _all_rows(flow, "copilot_usage_daily", team_id, set())
    status_before = flow.store.get_team("acme").copilot_status

    result = _run_job(flow, "acme", days[0], days[-1])
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    md = failure.step_failure_data.user_failure_data.metadata
    assert list(md["unparsable_team_days"].value) == [f"acme {bad_day.isoformat()}"]
    assert "daily_active_users" in md["unparsable_team_days"].value[f"acme {bad_day.isoformat()}"]
    after = {r["day"]: r for r in _all_rows(flow, "copilot_usage_daily", team_id, set())}
    assert after[bad_day] == next(r for r in before_bad if r["day"] == bad_day)  # kept as stored
    assert after[days[0]]["parser_version"] == after[days[2]]["parser_version"] == PARSER_VERSION
    run = flow.instance.get_run_by_id(result.run_id)
    assert run is not None and not touches_sync_assets(run)  # the failure sensor leaves it alone
    assert flow.store.get_team("acme").copilot_status == status_before
