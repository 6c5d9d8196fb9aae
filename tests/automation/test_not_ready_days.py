"""Issue 14: a day GitHub has no report for yet (204 or 404) is not a failure and not done.

Through the real client and the GitHub simulator over HTTP, the real nightly schedule (window and gap-fill
runs) and the failure sensor: the day materializes with ``no_report``, never moves the team's status, stays
in the gap list night after night, and stores once GitHub serves it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from automation_support import Harness, nightly_window_requests, today

from copilot_assets.gaps import gap_window, missing_days
from resources import tables


def _state(h: Harness, slug: str, day, asset: str = "copilot_usage") -> dict | None:
    t = tables.copilot_day_status
    with h.store.engine.connect() as conn:
        row = conn.execute(sa.select(t).where(t.c.team_id == h.team(slug).id, t.c.day == day,
                                              t.c.asset == asset)).first()
    return dict(row._mapping) if row else None


def _day_requests(h: Harness, org: str, report: str) -> list[int]:
    return [r["status"] for r in h.sim.requests_for(org) if r["endpoint_kind"] == report]


@pytest.mark.parametrize("status", [404, 204])
def test_a_day_not_ready_three_nights_running_is_no_failure_and_stores_once_served(h: Harness, status: int) -> None:
    h.flag(True)
    h.add_connected("acme")
    h.sync_partitions()
    # GitHub is 5 days late for this org: every day newer than today-5 answers `status`
    h.fault("acme", ready_lag_days=5, not_ready_status=str(status))
    x = today() - timedelta(days=4)
    nights = [today() - timedelta(days=2), today() - timedelta(days=1), today()]
    for night in nights:
        results = h.night(night)
        assert results and all(r.success for r in results), [r.run_id for r in results if not r.success]
        t = h.team("acme")
        assert (t.copilot_status, t.copilot_consecutive_failures) == ("connected", 0)
        state = _state(h, "acme", x)
        assert state is not None and state["state"] == "no_report"
        assert state["reason"] == f"http_{status}"
    assert _state(h, "acme", x)["no_report_checks"] >= 3
    assert _day_requests(h, "acme-org", "organization-1-day").count(status) >= 3
    # still listed as missing: the next nightly asks for it again
    start, end = gap_window(today(), 28)
    assert x in missing_days(h.store, [h.team("acme").id], start, end)[h.team("acme").id]["copilot_usage"]
    assert h.store.count_rows("copilot_usage_daily", h.team("acme").id, x) == 0

    # GitHub catches up: the next night's gap fill stores the day
    h.fault("acme", ready_lag_days=1)
    h.night(today())
    assert _state(h, "acme", x)["state"] == "data"
    assert h.store.count_rows("copilot_usage_daily", h.team("acme").id, x) == 1
    assert h.store.count_rows("copilot_user_daily", h.team("acme").id, x) > 0
    assert x not in missing_days(h.store, [h.team("acme").id], start, end).get(h.team("acme").id, {}).get(
        "copilot_usage", [])
    assert h.team("acme").copilot_status == "connected"


def test_a_204_never_replaces_stored_rows(h: Harness) -> None:
    h.flag(True)
    h.add_connected("acme")
    h.sync_partitions()
    day = today() - timedelta(days=2)
    assert h.run_request(nightly_window_requests(h.nightly())[0]).success
    team_id = h.team("acme").id
    before = h.store.count_rows("copilot_usage_daily", team_id, day), h.store.count_rows(
        "copilot_user_daily", team_id, day)
    assert before[0] == 1 and before[1] > 0
    h.fault("acme", ready_lag_days=5, not_ready_status="204")  # the same days now answer 204
    [rr] = nightly_window_requests(h.nightly())
    result = h.run_request(rr)
    assert result.success
    md = {e.materialization.partition: {k: v.value for k, v in e.materialization.metadata.items()}
          for e in result.get_asset_materialization_events()
          if e.materialization.asset_key.to_user_string() == "copilot_usage"}
    got = md[f"{day.isoformat()}|acme"]
    assert (got["no_report"], got["no_report_reason"], got["rows_kept"], got["day_state"]) == (
        True, "http_204", True, "data")
    assert (h.store.count_rows("copilot_usage_daily", team_id, day),
            h.store.count_rows("copilot_user_daily", team_id, day)) == before
    assert _state(h, "acme", day)["state"] == "data"


def test_a_missing_per_user_day_is_refetched_by_the_nightly_like_a_usage_day(h: Harness) -> None:
    h.flag(True)
    h.add_connected("acme")
    h.sync_partitions()
    y = today() - timedelta(days=10)
    start = today() - timedelta(days=12)
    # a backfill where the per-user report of day y failed (a 500 storm): usage stored, users not
    h.fault("acme", {"mode": "500", "endpoint": "users-28-day"},
            {"mode": "500", "endpoint": "users-1-day", "days": [y.isoformat()]})
    result = h.range_run("acme", "acme", start, y + timedelta(days=1))
    assert not result.success
    team_id = h.team("acme").id
    assert h.store.count_rows("copilot_usage_daily", team_id, y) == 1
    assert h.store.count_rows("copilot_user_daily", team_id, y) == 0
    gaps = missing_days(h.store, [team_id], *gap_window(today(), 28))[team_id]
    assert y in gaps["copilot_user_usage"] and y not in gaps.get("copilot_usage", [])

    h.fault("acme")  # GitHub is fine again
    data = h.nightly()
    fills = [rr for rr in data.run_requests if rr.tags["copilot/trigger"] == "gapfill"
             and rr.tags["dagster/asset_partition_range_start"] == f"{y.isoformat()}|acme"]
    assert [[k.to_user_string() for k in rr.asset_selection] for rr in fills] == [["copilot_user_usage"]]
    assert fills[0].tags["dagster/asset_partition_range_end"] == f"{y.isoformat()}|acme"  # only the missing day
    assert h.run_request(fills[0]).success
    assert h.store.count_rows("copilot_user_daily", team_id, y) > 0
    assert _state(h, "acme", y, "copilot_user_usage")["state"] == "data"
    assert h.team("acme").copilot_consecutive_failures == 0  # a gap fill of old days never adds a strike
