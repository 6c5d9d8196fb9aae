"""load_fact_frames reads one team only (tenant isolation), never logins."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from insights_support import DAY

from insights_assets.load import load_fact_frames, load_facts
from resources import tables as t

NOW = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)


def _counters(acc: int, gen: int, loc: int) -> dict:
    return {"user_initiated_interaction_count": 1, "code_generation_activity_count": gen,
            "code_acceptance_activity_count": acc, "loc_suggested_to_add_sum": loc, "loc_added_sum": loc}


def _seed(conn, team_id: int, scale: int) -> None:
    conn.execute(sa.insert(t.teams), [{"id": team_id, "slug": f"team-{team_id}", "name": f"Team {team_id}",
                                       "github_org": f"org{team_id}", "created_at": NOW, "updated_at": NOW}])
    for i in range(10):
        day = DAY - timedelta(days=i)
        c = _counters(acc=3 * scale, gen=10 * scale, loc=5 * scale)
        conn.execute(sa.insert(t.copilot_usage_daily), [{
            "team_id": team_id, "day": day, "daily_active_users": scale, "source_report": "organization-1-day",
            "fetched_at": NOW, **c}])
        for table, key, name in ((t.copilot_language_daily, "language", f"lang{team_id}"),
                                 (t.copilot_editor_daily, "editor", f"editor{team_id}"),
                                 (t.copilot_model_daily, "model", f"model{team_id}")):
            conn.execute(sa.insert(table), [{"team_id": team_id, "day": day, key: name, **c}])
        conn.execute(sa.insert(t.copilot_github_team_daily), [{
            "team_id": team_id, "day": day, "github_team_id": team_id * 100, "github_team_slug": f"gh{team_id}",
            "active_users": 5 * scale, "engaged_users": scale, "below_threshold": False, **c}])
        conn.execute(sa.insert(t.copilot_user_daily), [{
            "team_id": team_id, "day": day, "user_id": team_id * 1000 + u, "user_login": f"login-{team_id}-{u}",
            "used_agent": u == 0, "ai_credits_used": 1.5 * scale, **c} for u in range(scale)])
        conn.execute(sa.insert(t.copilot_pull_request_daily), [{
            "team_id": team_id, "day": day, "total_created": 4 * scale, "total_merged": 3 * scale,
            "median_minutes_to_merge": 60.0 * scale + i}])
    conn.execute(sa.insert(t.copilot_seat_snapshots), [{
        "team_id": team_id, "day": DAY - timedelta(days=1), "snapshot_at": NOW, "total_seats": 10 * scale,
        "active_seats": 7 * scale, "inactive_seats": 3 * scale, "pending_invitation": 0,
        "pending_cancellation": 0, "added_this_cycle": 0, "never_used": scale, "dormant_30d": 2 * scale,
        "listed_seats": 10 * scale}])
    conn.execute(sa.insert(t.copilot_seat_plan_daily), [{
        "team_id": team_id, "day": DAY - timedelta(days=1), "plan_type": "business", "seats": 10 * scale,
        "never_used": scale, "dormant_30d": 2 * scale, "seat_price_usd_month": 19.0}])


def test_facts_of_team_a_never_include_team_b():
    engine = sa.create_engine("sqlite://")
    t.metadata.create_all(engine)
    with engine.begin() as conn:
        _seed(conn, 1, scale=2)
        _seed(conn, 2, scale=9)
        frames = load_fact_frames(conn, 1, DAY, window_days=7)
        facts_a = load_facts(conn, 1, DAY, window_days=7)
        facts_b = load_facts(conn, 2, DAY, window_days=7)

    for frame in frames.values():
        if hasattr(frame, "columns"):
            assert "team_id" not in frame.columns or set(frame["team_id"]) <= {1}
            assert "user_login" not in frame.columns
    assert [p["seats"] for p in frames["seat_plans"]] == [20] and "team_id" not in frames["seat_plans"][0]
    assert frames["credits_month_to_date"] == 1.5 * 2 * 2 * 10  # 2 users × 1.5 × 2 (scale) × ten days of Nov
    assert len(frames["usage"]) == 10  # 2 × window covers all ten seeded days
    assert len(frames["languages"]) == 7  # window only
    assert frames["seats"]["total_seats"] == 20

    assert facts_a.numbers["active_users_avg"] == 2.0
    assert facts_a.numbers["code_generations"] == 7 * 20
    assert facts_a.numbers["lines_accepted"] == 7 * 10
    assert facts_a.numbers["seats_total"] == 20
    assert facts_a.numbers["active_users_distinct"] == 2
    assert facts_a.labels["top_language_1"] == "lang1"
    assert (facts_a.numbers["prs_created"], facts_a.numbers["prs_merged"]) == (7 * 8, 7 * 6)
    assert facts_a.numbers["pr_median_minutes_to_merge"] == 123.0  # median of 120..126 (medians of 7 days)
    assert facts_a.numbers["agent_users_distinct"] == 1 and facts_a.numbers["agent_adoption_rate"] == 0.5
    assert facts_a.numbers["unused_seat_cost_usd_month"] == (2 + 4) * 19.0
    assert facts_b.numbers["seat_cost_usd_month"] == 90 * 19.0
    assert facts_b.numbers["seats_total"] == 90
    text_a = facts_a.to_json()
    assert "lang2" not in text_a and "gh2" not in text_a and "editor2" not in text_a
    assert "login" not in text_a and "login" not in facts_b.to_json()
    assert not set(map(float, facts_b.numbers.values())) - {0.0} <= set(map(float, facts_a.numbers.values()))


def test_seat_snapshot_after_the_day_is_not_used():
    engine = sa.create_engine("sqlite://")
    t.metadata.create_all(engine)
    with engine.begin() as conn:
        _seed(conn, 1, scale=1)
        frames = load_fact_frames(conn, 1, date(2026, 11, 1), window_days=7)
    assert frames["seats"] is None
    assert frames["usage"].empty


def test_insight_result_row_fits_the_insights_table(facts, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    from insights_assets.generate import generate_insight
    from resources.llm import AnthropicResource

    engine = sa.create_engine("sqlite://")
    t.metadata.create_all(engine)
    result = generate_insight(facts, AnthropicResource())  # no key in this test: rules
    with engine.begin() as conn:
        _seed(conn, 42, scale=1)
        conn.execute(sa.insert(t.insights), [result.to_row(facts, created_at=NOW, run_id="run-1")])
        row = conn.execute(sa.select(t.insights)).mappings().one()
    assert row["source"] == "rules" and row["team_id"] == 42 and row["day"] == facts.day
    assert row["headline"] == result.output.headline
