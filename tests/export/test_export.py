"""`copilot-flow export`: exact CSV for a seeded range, team isolation, Parquet round trip, bad input.

The store is seeded through ``Store()`` (the default SQLite under the per-test COPILOT_FLOW_HOME), the
same store the CLI opens.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from copilot_flow.cli import main as cli
from copilot_flow.export import COLUMNS, to_csv_text
from resources.store import Store

D1, D2, D3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)
AT = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)


def usage(dau: int, wau: int, mau: int, gen: int, acc: int, sugg: int, added: int, chat: int, agent: int,
          rate: float | None) -> dict:
    return {"daily_active_users": dau, "weekly_active_users": wau, "monthly_active_users": mau,
            "monthly_active_chat_users": 1, "monthly_active_agent_users": 1,
            "user_initiated_interaction_count": 3, "code_generation_activity_count": gen,
            "code_acceptance_activity_count": acc, "loc_suggested_to_add_sum": sugg, "loc_added_sum": added,
            "chat_interactions": chat, "agent_interactions": agent, "acceptance_rate": rate,
            "source_report": "organization-1-day", "fetched_at": AT}


def seats(total: int, active: int, never: int, dormant: int) -> dict:
    return {"snapshot_at": AT, "total_seats": total, "active_seats": active, "inactive_seats": total - active,
            "pending_invitation": 0, "pending_cancellation": 0, "added_this_cycle": 0, "never_used": never,
            "dormant_30d": dormant, "listed_seats": total, "plan_type": "business",
            "seat_management_setting": "assign_selected"}


def insight(source: str, headline: str) -> dict:
    return {"source": source, "model": None, "headline": headline, "detail": "d", "recommendation": "r",
            "actions": "[]", "cited_numbers": "[]", "facts": "{}", "created_at": AT}


@pytest.fixture
def seeded() -> Store:
    """Two teams, 3 days each. acme: usage every day, seats on day 3, an insight on day 2; day 2's usage has
    no acceptance rate. globex: distinctive numbers (7777…) that must never show up in acme's export."""
    s = Store()
    s.upgrade()
    acme = s.add_team("acme", name="Acme", github_org="acme-corp")
    globex = s.add_team("globex", name="Globex", github_org="globex")
    s.replace_team_day(acme.id, D1, {"copilot_usage_daily": [usage(10, 12, 15, 100, 31, 400, 120, 5, 2, 0.31)]})
    s.replace_team_day(acme.id, D2, {"copilot_usage_daily": [usage(11, 13, 15, 0, 0, 0, 0, 6, 0, None)],
                                     "insights": [insight("rules", "Acceptance held, chat use rising")]})
    s.replace_team_day(acme.id, D3, {"copilot_usage_daily": [usage(9, 13, 16, 90, 30, 350, 110, 4, 1,
                                                                   1 / 3)],
                                     "copilot_seat_snapshots": [seats(20, 14, 3, 2)]})
    for d in (D1, D2, D3):
        s.replace_team_day(globex.id, d, {
            "copilot_usage_daily": [usage(7771, 7772, 7773, 7774, 7775, 7776, 7777, 7778, 7779, 0.7777)],
            "copilot_seat_snapshots": [seats(7780, 7781, 7782, 7783)],
            "insights": [insight("claude", "GLOBEX-SECRET-HEADLINE")],
        })
    return s


ORIGINAL_COLUMNS = COLUMNS[:COLUMNS.index("insight_headline") + 1]
NEW_COLUMNS = COLUMNS[len(ORIGINAL_COLUMNS):]  # the 2026 fields, credits and seat costs: none seeded here
EXPECTED_ORIGINAL = (
    "day,team,daily_active_users,weekly_active_users,monthly_active_users,code_generation_activity_count,"
    "code_acceptance_activity_count,loc_suggested_to_add_sum,loc_added_sum,chat_interactions,agent_interactions,"
    "acceptance_rate,total_seats,active_seats,never_used_seats,dormant_30d_seats,insight_source,"
    "insight_headline\n"
    "2026-02-28,acme,,,,,,,,,,,,,,,,\n"
    "2026-03-01,acme,10,12,15,100,31,400,120,5,2,0.3100,,,,,,\n"
    "2026-03-02,acme,11,13,15,0,0,0,0,6,0,,,,,,rules,\"Acceptance held, chat use rising\"\n"
    "2026-03-03,acme,9,13,16,90,30,350,110,4,1,0.3333,20,14,3,2,,\n"
)
EXPECTED_CSV = "".join(
    line + ("," + ",".join(NEW_COLUMNS) if i == 0 else "," * len(NEW_COLUMNS)) + "\n"  # empty: GitHub did not say
    for i, line in enumerate(EXPECTED_ORIGINAL.splitlines()))


@pytest.fixture
def outdir(tmp_path) -> Path:
    """Where exports go (tmp_path itself also holds the per-test COPILOT_FLOW_HOME)."""
    d = tmp_path / "out"
    d.mkdir()
    return d


def run(*args: str):
    return CliRunner().invoke(cli, ["export", *args])


def test_csv_is_exact_and_has_one_row_per_day(seeded, outdir):
    out = outdir / "acme.csv"
    r = run("--team", "acme", "--from", "2026-02-28", "--to", "2026-03-03", "--format", "csv", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "wrote 4 team-day rows of acme" in r.output
    assert out.read_text(encoding="utf-8") == EXPECTED_CSV
    assert [p.name for p in outdir.iterdir()] == ["acme.csv"]  # no temp file left behind


def test_other_teams_numbers_never_appear(seeded, outdir):
    out = outdir / "acme.csv"
    assert run("--team", "acme", "--from", "2026-03-01", "--to", "2026-03-03", "--out", str(out)).exit_code == 0
    text = out.read_text()
    assert "777" not in text and "778" not in text and "GLOBEX" not in text and "claude" not in text
    assert {line.split(",")[1] for line in text.splitlines()[1:]} == {"acme"}
    # and the other way round
    out2 = outdir / "globex.csv"
    assert run("--team", "globex", "--from", "2026-03-01", "--to", "2026-03-03", "--out", str(out2)).exit_code == 0
    rows = out2.read_text().splitlines()[1:]
    assert len(rows) == 3 and all(",globex,7771," in r and "GLOBEX-SECRET-HEADLINE" in r for r in rows)
    assert "Acceptance held" not in out2.read_text()


def test_parquet_round_trip_equals_the_csv_frame(seeded, outdir):
    args = ["--team", "acme", "--from", "2026-02-28", "--to", "2026-03-03"]
    assert run(*args, "--format", "csv", "--out", str(outdir / "a.csv")).exit_code == 0
    r = run(*args, "--format", "parquet", "--out", str(outdir / "a.parquet"))
    assert r.exit_code == 0, r.output
    frame = pd.read_parquet(outdir / "a.parquet")
    assert list(frame.columns) == COLUMNS
    assert to_csv_text(frame) == (outdir / "a.csv").read_text() == EXPECTED_CSV
    csv_frame = pd.read_csv(outdir / "a.csv", dtype={"day": "string", "team": "string"})
    pd.testing.assert_frame_equal(frame.astype(object).where(frame.notna(), None),
                                  csv_frame.astype(object).where(csv_frame.notna(), None),
                                  check_dtype=False, check_exact=False, rtol=1e-9)
    assert str(frame["daily_active_users"].dtype) == "Int64" and frame["acceptance_rate"].iloc[4 - 1] == 0.3333


def test_existing_file_is_replaced_whole(seeded, outdir):
    out = outdir / "acme.csv"
    out.write_text("old contents\n")
    assert run("--team", "acme", "--from", "2026-02-28", "--to", "2026-03-03", "--out", str(out)).exit_code == 0
    assert out.read_text() == EXPECTED_CSV


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--team", "nope", "--from", "2026-03-01", "--to", "2026-03-03"], "unknown team 'nope'"),
        (["--team", "acme", "--from", "2026-02-30", "--to", "2026-03-03"], "--from date '2026-02-30' is not"),
        (["--team", "acme", "--from", "2026-03-01", "--to", "yesterday"], "--to date 'yesterday' is not"),
        (["--team", "acme", "--from", "2026-03-03", "--to", "2026-03-01"], "is after --to"),
        (["--team", "acme", "--from", "2025-01-01", "--to", "2026-03-03"], "at most 400 days"),
        (["--team", "acme", "--from", "2026-03-01", "--to", "2026-03-03", "--format", "xlsx"],
         "unknown format 'xlsx'"),
    ],
)
def test_bad_input_is_one_error_line_exit_2_no_file(seeded, outdir, args, message):
    out = outdir / "out.csv"
    r = run(*args, "--out", str(out))
    assert r.exit_code == 2, r.output
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], r.output
    assert list(outdir.iterdir()) == []


def test_missing_output_directory(seeded, outdir):
    out = outdir / "no" / "such" / "dir" / "acme.csv"
    r = run("--team", "acme", "--from", "2026-03-01", "--to", "2026-03-03", "--out", str(out))
    assert r.exit_code == 2
    assert r.output.strip().startswith("error: output directory") and "does not exist" in r.output
    assert not (outdir / "no").exists()


def test_exactly_400_days_is_allowed(seeded, outdir):
    out = outdir / "long.csv"
    r = run("--team", "acme", "--from", "2025-01-28", "--to", "2026-03-03", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert len(out.read_text().splitlines()) == 1 + 400
    r = run("--team", "acme", "--from", "2025-01-27", "--to", "2026-03-03", "--out", str(outdir / "x.csv"))
    assert r.exit_code == 2 and "is 401 days; at most 400" in r.output


def test_a_failed_write_leaves_no_half_file(seeded, outdir, monkeypatch):
    out = outdir / "acme.parquet"
    out.write_bytes(b"previous export")

    def boom(self, path, *a, **kw):
        Path(path).write_bytes(b"PAR1 half")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", boom)
    r = run("--team", "acme", "--from", "2026-03-01", "--to", "2026-03-03", "--format", "parquet",
            "--out", str(out))
    assert r.exit_code != 0
    assert out.read_bytes() == b"previous export"
    assert [p.name for p in outdir.iterdir()] == ["acme.parquet"]


def test_the_2026_columns_credits_budget_and_seat_costs(seeded, outdir):
    """Exact values of the new columns; an absent field stays empty (never 0); month to date counts from the
    first of the month even when the export starts later; third-party agents are summed over agents."""
    s = seeded
    acme = s.get_team("acme")
    s.set_ai_credit_budget(acme.id, 40.0)
    user = {"user_login": None, "user_initiated_interaction_count": 1, "code_generation_activity_count": 1,
            "code_acceptance_activity_count": 0, "loc_suggested_to_add_sum": 0, "loc_added_sum": 0}
    s.replace_team_day(acme.id, D1, {"copilot_user_daily": [{**user, "user_id": 1, "ai_credits_used": 10.5},
                                                           {**user, "user_id": 2, "ai_credits_used": None}]})
    s.replace_team_day(acme.id, D3, {
        "copilot_usage_daily": [{**usage(9, 13, 16, 90, 30, 350, 110, 4, 1, 1 / 3),
                                 "daily_active_copilot_cloud_agent_users": 0, "daily_active_cli_users": 3}],
        "copilot_user_daily": [{**user, "user_id": 1, "ai_credits_used": 2.25},
                               {**user, "user_id": 3, "ai_credits_used": None}],
        "copilot_pull_request_daily": [{"total_created": 6, "total_merged": 4, "median_minutes_to_merge": 95.5}],
        "copilot_cli_daily": [{"session_count": 2, "request_count": 9}],
        "copilot_third_party_agent_daily": [
            {"agent_id": "a", "user_initiated_interaction_count": 5, "session_count": 1},
            {"agent_id": "b", "user_initiated_interaction_count": 7, "session_count": None}],
        "copilot_seat_snapshots": [{**seats(20, 14, 3, 2), "seat_cost_usd": 12.2581, "never_used_cost_usd": 1.8387,
                                    "dormant_30d_cost_usd": 1.2258}],
    })
    out = outdir / "acme.csv"
    assert run("--team", "acme", "--from", "2026-03-02", "--to", "2026-03-03", "--out", str(out)).exit_code == 0
    frame = pd.read_csv(out, dtype={"day": "string"})
    d2, d3 = frame.iloc[0], frame.iloc[1]
    assert (d3["daily_active_copilot_cloud_agent_users"], d3["daily_active_cli_users"]) == (0, 3)  # 0 stays 0
    assert pd.isna(d3["daily_active_copilot_code_review_users"]) and pd.isna(d2["prs_created"])  # absent: empty
    assert (d3["prs_created"], d3["prs_merged"], d3["pr_median_minutes_to_merge"]) == (6, 4, 95.5)
    assert pd.isna(d3["prs_reviewed"])
    assert (d3["cli_session_count"], d3["cli_request_count"]) == (2, 9) and pd.isna(d3["app_session_count"])
    assert (d3["third_party_agent_interactions"], d3["third_party_agent_sessions"]) == (12, 1)
    assert pd.isna(d2["ai_credits_used"]) and d2["ai_credits_month_to_date"] == 10.5  # day 1 is before the range
    assert (d3["ai_credits_used"], d3["ai_credits_month_to_date"]) == (2.25, 12.75)
    assert d3["ai_credit_budget"] == 40.0 and d3["ai_credit_budget_share"] == pytest.approx(12.75 / 40, abs=1e-4)
    assert (d3["seat_cost_usd"], d3["never_used_cost_usd"], d3["dormant_30d_cost_usd"]) == (12.2581, 1.8387, 1.2258)
