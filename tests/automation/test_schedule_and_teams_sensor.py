"""Issue 6: the 04:45 UTC nightly schedule (flags, eligible teams, range tags) and copilot_teams_sensor.

The schedule is evaluated with ``build_schedule_context(instance=..., scheduled_execution_time=04:45 UTC)``
and ``evaluate_tick`` on the real definitions; teams and flags are real app-store rows and the teams
partitions live in the real instance.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
from automation_support import Harness, nightly_tick, nightly_window_requests, today, window

from copilot_assets import status as sm
from copilot_assets.jobs import RANGE_END, RANGE_START, SYNC_KEYS
from copilot_assets.outcomes import RUN_TRIGGER_TAG, TEAM_TAG
from copilot_assets.schedules import copilot_nightly_sync
from copilot_assets.sensors import copilot_teams_sensor
from copilot_assets.team_health import apply_event
from resources.flags import COPILOT_FLAG


def _revoke(h: Harness, slug: str) -> None:
    """A 401 through the status machine (the same call the failure sensor makes)."""
    now = datetime.now(UTC)
    apply_event(h.store, h.team(slug), sm.SyncFailed(at=now, run_started_at=now, error_kind="token_revoked",
                                                     http_status=401), actor="test")
    assert h.team(slug).copilot_status == "token_revoked"


def _ranges(h: Harness, data) -> list[tuple[str, str, set[str]]]:
    """(range start tag, range end tag, the team-day keys Dagster resolves that range to) per window run."""
    out = []
    for rr in nightly_window_requests(data):
        assert list(rr.asset_selection) == SYNC_KEYS
        assert rr.tags[RUN_TRIGGER_TAG] == "nightly"
        out.append((rr.tags[RANGE_START], rr.tags[RANGE_END], h.range_keys(rr.tags[RANGE_START], rr.tags[RANGE_END])))
    return out


def _keys(teams: list[str]) -> set[str]:
    return {f"{d.isoformat()}|{t}" for d in window() for t in teams}


def test_schedule_is_0445_utc() -> None:
    sched = copilot_nightly_sync
    assert (sched.cron_schedule, sched.execution_timezone) == ("45 4 * * *", "UTC")
    assert nightly_tick().hour == 4 and nightly_tick().minute == 45


def test_nightly_requests_ranges_of_consecutive_connected_teams(h: Harness) -> None:
    h.flag(True)
    for slug in ("a", "b", "c", "d"):
        h.add_connected(slug)
    h.store.add_team("e", name="Team e", github_org="e-org")  # never connected: disabled
    h.sync_partitions()
    assert h.team_partitions() == ["a", "b", "c", "d", "e"]
    _revoke(h, "c")

    data = h.nightly()
    d1, d3 = (today() - timedelta(days=1)).isoformat(), (today() - timedelta(days=3)).isoformat()
    assert _ranges(h, data) == [
        (f"{d3}|a", f"{d1}|b", _keys(["a", "b"])),
        (f"{d3}|d", f"{d1}|d", _keys(["d"])),
    ]
    [ab, dd] = nightly_window_requests(data)
    assert TEAM_TAG not in ab.tags and dd.tags[TEAM_TAG] == "d"
    assert ab.tags["copilot/dates"] == f"{d3}..{d1}"
    # every other request (gap fills of older days) is also only for eligible teams
    requested_teams = {rr.tags[RANGE_START].split("|")[1] for rr in data.run_requests}
    requested_teams |= {rr.tags[RANGE_END].split("|")[1] for rr in data.run_requests}
    assert requested_teams <= {"a", "b", "d"}


def test_nightly_ranges_are_the_three_days_before_the_tick(h: Harness) -> None:
    h.flag(True)
    h.add_connected("a")
    h.sync_partitions()
    tick_day = today() - timedelta(days=10)
    [(start, end, keys)] = _ranges(h, h.nightly(tick_day))
    expected = {f"{(tick_day - timedelta(days=n)).isoformat()}|a" for n in (1, 2, 3)}
    assert keys == expected
    assert start == f"{(tick_day - timedelta(days=3)).isoformat()}|a"
    assert end == f"{(tick_day - timedelta(days=1)).isoformat()}|a"


def test_team_override_off_excludes_team_and_splits_the_range(h: Harness) -> None:
    h.flag(True)
    for slug in ("a", "b", "c"):
        h.add_connected(slug)
    h.sync_partitions()
    h.store.set_flag(COPILOT_FLAG, False, team_id=h.team("b").id)
    h.store.set_flag(COPILOT_FLAG, True, team_id=h.team("c").id)  # an explicit "on" override changes nothing

    assert [(s, e) for s, e, _ in _ranges(h, h.nightly())] == [
        (f"{window()[0]}|a", f"{window()[-1]}|a"),
        (f"{window()[0]}|c", f"{window()[-1]}|c"),
    ]

    # override back on: one range a..c again
    h.store.set_flag(COPILOT_FLAG, True, team_id=h.team("b").id)
    [(_, _, keys)] = _ranges(h, h.nightly())
    assert keys == _keys(["a", "b", "c"])


@pytest.mark.parametrize("global_value", [None, False], ids=["never-set", "off"])
def test_global_flag_off_or_unset_skips_with_reason(h: Harness, global_value) -> None:
    h.flag(global_value)
    h.add_connected("a")
    h.sync_partitions()
    h.store.set_flag(COPILOT_FLAG, True, team_id=h.team("a").id)  # master first: a team override cannot win

    data = h.nightly()
    assert not data.run_requests
    assert COPILOT_FLAG in data.skip_message
    assert ("not set" if global_value is None else "off") in data.skip_message


def test_nightly_skips_when_no_team_is_eligible(h: Harness) -> None:
    h.flag(True)
    h.store.add_team("a", name="Team a", github_org="a-org")  # disabled
    h.sync_partitions()
    data = h.nightly()
    assert not data.run_requests
    assert "no syncable team (1 skipped: a: status disabled)" in data.skip_message


# ----------------------------------------------------------------------------- copilot_teams_sensor
def test_teams_sensor_adds_store_teams_and_never_deletes(h: Harness) -> None:
    h.instance.add_dynamic_partitions("teams", ["old-team"])  # history of a team no longer in the store
    h.store.add_team("alpha", name="Alpha", github_org="alpha-org")
    h.store.add_team("beta", name="Beta", github_org="beta-org")

    def call():
        ctx = dg.build_sensor_context(instance=h.instance, resources=h.defs.resources, definitions=h.defs)
        return copilot_teams_sensor(ctx)

    result = call()
    assert isinstance(result, dg.SensorResult)
    [req] = result.dynamic_partitions_requests
    assert isinstance(req, dg.AddDynamicPartitionsRequest)
    assert (req.partitions_def_name, list(req.partition_keys)) == ("teams", ["alpha", "beta"])
    h.instance.add_dynamic_partitions(req.partitions_def_name, list(req.partition_keys))  # as the daemon does

    again = call()
    assert isinstance(again, dg.SkipReason) and "all 3 team partition(s) present" in again.skip_message

    h.store.add_team("gamma", name="Gamma", github_org="gamma-org")
    [req] = call().dynamic_partitions_requests
    assert list(req.partition_keys) == ["gamma"]
    h.instance.add_dynamic_partitions("teams", ["gamma"])
    assert h.team_partitions() == ["old-team", "alpha", "beta", "gamma"]  # nothing deleted, order kept

    # through the daemon-like tick too: no delete requests, ever
    data = h.sync_partitions()
    assert not any(isinstance(r, dg.DeleteDynamicPartitionsRequest) for r in data.dynamic_partitions_requests or [])
    assert "old-team" in h.team_partitions()
