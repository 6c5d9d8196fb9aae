"""Issue 14: lenient parsing through the real client and simulator — a day whose per-user records include one
without ``user_login`` stores every user (that one by ``user_id``); the day is never dropped."""

from __future__ import annotations

from datetime import timedelta

from flow_support import USER_USAGE, mats, today

from simulators import github_data as gd


def _day_with_a_user_without_login(org: str, seats: int):
    for back in range(2, 60):
        day = today() - timedelta(days=back)
        uid = gd.user_without_login(org, day, seats)
        if uid is not None:
            return day, uid
    raise AssertionError("the simulator omits a login on about one day in 11: none in 58 days")


def test_a_day_with_a_user_record_without_login_stores_all_users(flow) -> None:
    flow.add_team("acme", "acme-org", shards=2)
    day, uid = _day_with_a_user_without_login("acme-org", 50)
    served = list(gd.users_1_day_rows("acme-org", day, 50))
    assert [r["user_id"] for r in served if "user_login" not in r] == [uid]  # what GitHub sent

    result = flow.team_day("acme", day, USER_USAGE)
    assert result.success
    rows = flow.rows("copilot_user_daily", "acme", day)
    assert sorted(r["user_id"] for r in rows) == sorted(r["user_id"] for r in served)  # every user stored
    [nameless] = [r for r in rows if r["user_login"] is None]
    assert nameless["user_id"] == uid
    want = next(r for r in served if r["user_id"] == uid)
    assert nameless["code_generation_activity_count"] == want["code_generation_activity_count"]
    md = mats(result, USER_USAGE)[f"{day.isoformat()}|acme"]
    assert (md["users"], md["users_without_login"], md["skipped_records"]) == (len(served), 1, 0)
    # the raw report keeps GitHub's record as it came (no invented login)
    raw = {r["user_id"]: r for r in flow.raw_report("acme", day, "users-1-day")}
    assert "user_login" not in raw[uid]
