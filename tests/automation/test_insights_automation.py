"""Issue 7: declarative automation requests copilot_insights for exactly the team-day whose metrics were
just synced, for connected teams only.

``evaluate_automation_conditions`` only sees updates *between* two evaluations (an update that happened
before the first evaluation has no previous cursor to compare with), so the test evaluates once before
the sync, then again with that cursor after it, then once more to see the request was handled.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
from automation_support import Harness, nightly_window_requests, today

from copilot_assets.automation import INSIGHTS_KEY, SYNC_KEYS


def _evaluate(h: Harness, cursor=None):
    return dg.evaluate_automation_conditions(defs=h.defs, instance=h.instance,
                                             evaluation_time=datetime.now(UTC), cursor=cursor)


def test_fresh_metrics_request_insights_for_that_team_day_only(h: Harness) -> None:
    h.flag(True)
    h.add_connected("acme")
    h.store.add_team("dormant", name="Dormant", github_org="dormant-org")  # disabled: its metrics never sync
    h.sync_partitions()
    latest = (today() - timedelta(days=1)).isoformat()

    before = _evaluate(h)
    assert before.get_requested_partitions(INSIGHTS_KEY) == set()

    [rr] = nightly_window_requests(h.nightly())
    result = h.run_request(rr)
    assert result.success
    for key in SYNC_KEYS:  # the latest team-day of all three upstream assets is materialized
        assert f"{latest}|acme" in h.materialized(result, key.to_user_string())

    after = _evaluate(h, before.cursor)
    requested = {str(k) for k in after.get_requested_partitions(INSIGHTS_KEY)}
    assert requested == {f"{latest}|acme"}  # only the latest day, only the connected team
    assert after.total_requested == 1

    handled = _evaluate(h, after.cursor)
    assert handled.get_requested_partitions(INSIGHTS_KEY) == set()

    # run what automation asked for: the insight lands for that team-day, nothing for the other team
    [key] = after.get_requested_partitions(INSIGHTS_KEY)
    run = h.materialize(partition_key=key, selection=[INSIGHTS_KEY])
    assert run.success
    acme, dormant = h.team("acme"), h.team("dormant")
    assert h.store.count_rows("insights", acme.id, today() - timedelta(days=1)) == 1
    assert h.store.count_rows("insights", acme.id) == 1
    assert h.store.count_rows("insights", dormant.id) == 0
    assert h.store.count_rows("copilot_usage_daily", dormant.id) == 0
