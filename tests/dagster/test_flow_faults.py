"""Bad days: 204 (no report) never wipes stored rows; a malformed report fails the team-day clearly and keeps
the previous version."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flow_support import USAGE, expected_org_day, failed_partitions, mats, step_failure, today


def test_no_report_day_materializes_empty_and_a_later_204_keeps_stored_rows(flow) -> None:
    flow.add_team("acme", "acme-org", history_start=(today() - timedelta(days=20)).isoformat(),
                  not_ready_status="204")

    # a day before the org's report history: 204 → materialized as "no report", zero rows
    old = today() - timedelta(days=25)
    result = flow.team_day("acme", old, USAGE)
    assert result.success
    md = mats(result)[f"{old.isoformat()}|acme"]
    assert md["no_report"] is True and md["rows_written"] == 0
    assert flow.count("copilot_usage_daily", "acme", old) == 0
    assert [o["outcome"] for o in flow.observations("acme", old)] == ["http_204"]
    assert [r["status"] for r in flow.requests("acme") if r["endpoint_kind"] == "organization-1-day"][-1] == 204

    # a day with rows; then GitHub answers 204 for it (no_content fault): the rows stay as they were
    day = today() - timedelta(days=5)
    assert flow.team_day("acme", day, USAGE).success
    before = flow.snapshot("acme", day)
    assert before["copilot_usage_daily"][0]["daily_active_users"] == expected_org_day("acme-org", day)["dau"]
    flow.set_org("acme", history_start=(today() - timedelta(days=20)).isoformat(), not_ready_status="204",
                 faults=[{"mode": "no_content", "endpoint": "organization-1-day", "days": [day.isoformat()]}])
    again = flow.team_day("acme", day, USAGE)
    assert again.success
    md = mats(again)[f"{day.isoformat()}|acme"]
    assert md["no_report"] is True and md["rows_written"] == 0
    assert (md["rows_kept"], md["day_state"], md["no_report_reason"]) == (True, "data", "http_204")
    assert flow.snapshot("acme", day) == before
    assert [o["outcome"] for o in flow.observations("acme", day)] == ["http_204"]
    assert flow.materialized(USAGE) == {f"{old.isoformat()}|acme", f"{day.isoformat()}|acme"}


@pytest.mark.parametrize("mode", ["malformed_ndjson", "malformed_json", "truncated_shard"])
def test_malformed_report_fails_the_team_day_and_keeps_previous_rows(flow, mode: str) -> None:
    flow.add_team("acme", "acme-org")
    day = today() - timedelta(days=6)
    key = f"{day.isoformat()}|acme"
    assert flow.team_day("acme", day, USAGE).success
    before = flow.snapshot("acme", day)
    raw_before = flow.raw_report("acme", day, "organization-1-day")
    assert len(before["copilot_usage_daily"]) == 1

    flow.set_org("acme", faults=[{"mode": mode, "endpoint": "organization-1-day", "days": [day.isoformat()]}])
    result = flow.team_day("acme", day, USAGE)
    assert not result.success
    description, md = step_failure(result)
    assert f"acme {day.isoformat()}: malformed_report" in description
    [failed] = md["failed_team_days"]
    assert (failed["team"], failed["day"], failed["error_kind"]) == ("acme", day.isoformat(), "malformed_report")
    assert md["error_kind"] == "malformed_report" and md["team"] == "acme"
    assert "organization-1-day" in failed["message"]
    assert "sig=" not in description  # never a signed download URL
    # nothing stored was lost or changed
    assert flow.snapshot("acme", day) == before
    assert flow.raw_report("acme", day, "organization-1-day") == raw_before
    assert mats(result) == {}
    assert failed_partitions(flow, USAGE) == {key}
    assert len(flow.instance.fetch_materializations(USAGE, limit=10).records) == 1
