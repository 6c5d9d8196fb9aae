"""Issue 18: the data behind each chart (series, marked gaps, coverage) checked against the store — not
pixels —, the self-contained HTML report, the two assets and the sensor that refreshes them."""

from __future__ import annotations

import base64
import re
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest
from click.testing import CliRunner

from copilot_assets import status as sm
from copilot_assets.team_health import apply_event
from report_assets.html import team_report_html
from report_assets.overview import overview_rows
from report_assets.series import SEMANTIC_CHANGES, team_report_data
from resources.secrets import Secret

END = date(2026, 11, 30)
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _team(store, slug: str, connected: bool = True):
    t = store.add_team(slug, name=slug.title(), github_org=f"{slug}-org")
    store.store_credential(t.id, Secret(f"tok-{slug}"), verified=True)
    if connected:
        apply_event(store, t, sm.Connected(at=T0), actor="test")
    return store.get_team(slug)


def _usage(store, team_id: int, day: date, dau: int | None, gen: int, acc: int) -> None:
    store.replace_team_day(team_id, day, {"copilot_usage_daily": [{
        "daily_active_users": dau, "weekly_active_users": dau and dau + 3, "code_generation_activity_count": gen,
        "code_acceptance_activity_count": acc, "acceptance_rate": acc / gen if gen else None,
        "source_report": "organization-1-day", "fetched_at": T0}]}, day_state_of="copilot_usage")


def _seats(store, team_id: int, day: date, total: int, active: int) -> None:
    store.replace_team_day(team_id, day, {"copilot_seat_snapshots": [{
        "snapshot_at": T0, "total_seats": total, "active_seats": active, "inactive_seats": total - active,
        "pending_invitation": 0, "pending_cancellation": 0, "added_this_cycle": 0, "never_used": 1,
        "dormant_30d": 1, "listed_seats": total}]})


@pytest.fixture
def seeded(sqlite_store):
    """acme: 40 days of usage with a two-day hole (one "no report" answer, one never fetched) and one day whose
    active-user count GitHub omitted; seats on the last day."""
    s = sqlite_store
    acme = _team(s, "acme")
    for i in range(40):
        day = END - timedelta(days=i)
        if day == END - timedelta(days=5):
            s.record_no_report(acme.id, day, "copilot_usage", "organization-1-day", "http_404")
            continue
        if day == END - timedelta(days=6):
            continue  # missing: never fetched, inside the gap horizon
        _usage(s, acme.id, day, None if day == END - timedelta(days=10) else 20 + i % 7, 100 + i, 30 + i % 11)
    _seats(s, acme.id, END, total=50, active=40)
    return s, acme


def test_series_are_the_stored_values_and_gaps_stay_gaps(seeded) -> None:
    s, acme = seeded
    data = team_report_data(s, acme, END, days=90)
    assert (data.start, data.end, len(data.days)) == (END - timedelta(days=89), END, 90)
    dau = data.series["daily_active_users"].points
    for i in range(40):
        day = END - timedelta(days=i)
        if day in (END - timedelta(days=5), END - timedelta(days=6), END - timedelta(days=10)):
            assert dau[day] is None  # a gap, never a zero
        else:
            assert dau[day] == 20 + i % 7
    assert all(dau[d] is None for d in data.days if d < END - timedelta(days=39))
    assert data.series["seats"].points[END] == 50 and data.series["seats"].points[END - timedelta(days=1)] is None
    rate = data.series["acceptance_rate"].points[END - timedelta(days=3)]
    assert rate == pytest.approx((30 + 3 % 11) / (100 + 3))
    # the marked days: GitHub's "no report" and the day never fetched (inside the horizon only)
    assert data.no_report_days == [END - timedelta(days=5)]
    assert data.missing_days == [END - timedelta(days=6)]
    assert data.first_data_day == END - timedelta(days=39)
    assert data.coverage == (25, 28)  # 28 days minus the hole of two and the day without a DAU
    # charts only for what is present (no PR / cost / credit data here)
    assert list(data.charts()) == ["adoption", "acceptance"]


def test_semantic_changes_inside_the_window_are_marked(sqlite_store) -> None:
    t = _team(sqlite_store, "acme")
    data = team_report_data(sqlite_store, t, date(2026, 7, 31), days=120)
    inside = [d for d, _ in SEMANTIC_CHANGES if date(2026, 4, 3) <= d <= date(2026, 7, 31)]
    assert [d for d, _ in data.changes] == inside
    assert date(2026, 4, 10) in [d for d, _ in data.changes]


def test_the_html_report_is_self_contained_and_escapes_data(seeded) -> None:
    s, acme = seeded
    s.replace_team_day(acme.id, END, {"insights": [{
        "source": "rules", "model": None, "headline": "Adoption <b>steady</b>",
        "detail": "Daily active users averaged 23.", "recommendation": "Keep going.", "actions": "[]",
        "cited_numbers": '[{"metric": "active_users_avg", "value": 23.0}]', "facts": "{}", "created_at": T0}]})
    html = team_report_html(team_report_data(s, acme, END))
    assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>")
    assert not re.search(r"""(src|href)=['"]?(https?:)?//""", html)  # nothing to fetch: opens offline
    assert "<script" not in html
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", html)
    assert len(images) == 2 and all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    assert "Adoption &lt;b&gt;steady&lt;/b&gt;" in html and "<b>steady</b>" not in html
    assert "active_users_avg" in html and "25/28 days" in html


def test_overview_puts_the_teams_that_need_attention_first(sqlite_store) -> None:
    s = sqlite_store
    good, low, revoked = _team(s, "good"), _team(s, "low"), _team(s, "zz-revoked")
    for i in range(28):
        day = END - timedelta(days=i)
        _usage(s, good.id, day, 40, 100, 40)
        _usage(s, low.id, day, 5, 100, 10)
        _usage(s, revoked.id, day, 40, 100, 40)
    for t in (good, low, revoked):
        _seats(s, t.id, END, total=50, active=45)
    now = datetime.now(UTC)  # a run after the credential was connected (an older one would change nothing)
    apply_event(s, revoked, sm.SyncFailed(at=now, run_started_at=now, error_kind="token_revoked", http_status=401),
                actor="test")
    rows = overview_rows(s, END)
    assert [r.slug for r in rows] == ["zz-revoked", "low", "good"]
    by = {r.slug: r for r in rows}
    assert by["good"].adoption == pytest.approx(40 / 50) and by["good"].attention == ()
    assert by["low"].attention == ("adoption 10%",) and by["low"].acceptance_rate == pytest.approx(0.1)
    assert by["zz-revoked"].attention[0] == "token_revoked (bad_credentials)"
    assert by["good"].seat_utilisation == pytest.approx(0.9) and by["good"].coverage == 28


def test_report_command_writes_one_file_and_refuses_bad_input(tmp_path, monkeypatch) -> None:
    from copilot_flow.cli import main as cli
    from resources.store import Store

    monkeypatch.setenv("COPILOT_FLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    store = Store()
    store.upgrade()
    t = _team(store, "acme")
    _usage(store, t.id, END, 10, 10, 5)
    out = tmp_path / "acme.html"
    r = CliRunner().invoke(cli, ["report", "acme", "--out", str(out), "--end", END.isoformat(), "--days", "30"])
    assert r.exit_code == 0, r.output
    assert out.read_text().count("data:image/png;base64,") == 2
    assert f"({END - timedelta(days=29)}..{END})" in r.output
    for args, message in ((["report", "nope", "--out", str(out)], "unknown team"),
                          (["report", "acme", "--out", str(tmp_path)], "is a directory"),
                          (["report", "acme", "--out", str(out), "--days", "3"], "out of range")):
        bad = CliRunner().invoke(cli, args)
        assert bad.exit_code == 2 and message in bad.output


def test_assets_materialize_charts_and_overview_with_metadata(seeded) -> None:
    s, _ = seeded
    from definitions import defs
    from report_assets.assets import copilot_org_overview, copilot_team_report
    from resources.app_store import StoreResource

    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("teams", ["acme"])
        res = dg.materialize([copilot_team_report, copilot_org_overview], instance=instance,
                             resources={"store": StoreResource(database_url=s.url)}, partition_key="acme",
                             selection=[copilot_team_report])
        assert res.success
        [mat] = [e.materialization for e in res.get_asset_materialization_events()]
        md = {k: v.value for k, v in mat.metadata.items()}
        assert md["charts"].startswith("![acme Copilot trends](data:image/png;base64,")
        assert md["charts_drawn"] == "adoption, acceptance"
        assert defs.resolve_sensor_def("copilot_reports_sensor").default_status == dg.DefaultSensorStatus.RUNNING
        ov = dg.materialize([copilot_team_report, copilot_org_overview], instance=instance,
                            resources={"store": StoreResource(database_url=s.url)}, selection=[copilot_org_overview])
        assert ov.success
        [omat] = [e.materialization for e in ov.get_asset_materialization_events()]
        assert omat.metadata["teams"].value == 1
        assert "| acme | connected |" in omat.metadata["overview"].value


def test_the_2026_families_are_charted_from_their_own_columns(seeded) -> None:
    """Agents, code review, pull requests, merge time, seat costs and AI credits (issue 17's columns): each
    point is the stored value of its team-day (credits: the sum over the team's users), absent days stay gaps."""
    s, acme = seeded
    d1, d2 = END - timedelta(days=1), END
    for day, merged, minutes in ((d1, 7, 95.5), (d2, 3, None)):  # GitHub gave no median on d2
        s.replace_team_day(acme.id, day, {"copilot_pull_request_daily": [
            {"total_created": 10, "total_merged": merged, "median_minutes_to_merge": minutes}]})
    _usage_2026 = {"daily_active_copilot_cloud_agent_users": 4, "daily_active_copilot_code_review_users": 6}
    s.replace_team_day(acme.id, d1, {"copilot_usage_daily": [{
        "daily_active_users": 21, "code_generation_activity_count": 100, "code_acceptance_activity_count": 30,
        "acceptance_rate": 0.3, "source_report": "organization-1-day", "fetched_at": T0, **_usage_2026}]})
    s.replace_team_day(acme.id, END, {"copilot_seat_snapshots": [{
        "snapshot_at": T0, "total_seats": 50, "active_seats": 40, "inactive_seats": 10, "pending_invitation": 0,
        "pending_cancellation": 0, "added_this_cycle": 0, "never_used": 2, "dormant_30d": 3, "listed_seats": 50,
        "seat_cost_usd": 31.67, "never_used_cost_usd": 1.27, "dormant_30d_cost_usd": 1.9}]})
    s.replace_team_day(acme.id, d1, {"copilot_user_daily": [
        {"user_id": 1, "user_login": "a", "ai_credits_used": 12.5},
        {"user_id": 2, "user_login": "b", "ai_credits_used": 2.0},
        {"user_id": 3, "user_login": "c", "ai_credits_used": None}]})

    data = team_report_data(s, acme, END, days=90)
    pts = {name: data.series[name].points for name in data.series}
    assert (pts["prs_merged"][d1], pts["prs_merged"][d2]) == (7, 3)
    assert (pts["median_minutes_to_merge"][d1], pts["median_minutes_to_merge"][d2]) == (95.5, None)
    assert (pts["cloud_agent_users"][d1], pts["code_review_users"][d1]) == (4, 6)
    assert pts["cloud_agent_users"][d2] is None  # not reported that day: a gap
    assert (pts["never_used_cost_usd"][END], pts["dormant_30d_cost_usd"][END]) == (1.27, 1.9)
    assert pts["ai_credits_used"][d1] == 14.5 and pts["ai_credits_used"][d2] is None
    assert list(data.charts()) == ["adoption", "acceptance", "agents", "pull_requests", "merge_time",
                                   "seat_cost", "credits"]


def test_lone_values_are_dots_and_cited_numbers_read_as_numbers() -> None:
    from report_assets.charts import isolated_points
    from report_assets.html import _fmt

    nan = float("nan")
    assert isolated_points([nan, 3.0, nan, 1.0, 2.0, nan, 5.0]) == [1, 6]
    assert isolated_points([1.0]) == [0] and isolated_points([nan, nan]) == []
    assert (_fmt(40537.0), _fmt(1400.6), _fmt(0.50213), _fmt(27.5), _fmt(3.0)) == (
        "40,537", "1,401", "0.5021", "27.5", "3")
