"""How the nightly splits teams into range runs (copilot_assets/jobs.py: consecutive_chunks)."""

from __future__ import annotations

import pytest

from copilot_assets.jobs import MAX_TEAMS_PER_RUN, MIN_TEAMS_PER_RUN, consecutive_chunks
from resources.sync_policy import DEFAULT_RUNS_AT_ONCE, SyncPolicyResource


def teams(n: int) -> list[str]:
    return [f"t{i:05d}" for i in range(n)]


def sizes(ordered: list[str], eligible: set[str], **kw) -> list[int]:
    chunks = consecutive_chunks(ordered, eligible, kw.pop("max_per_chunk", MAX_TEAMS_PER_RUN),
                                runs_at_once=kw.pop("runs_at_once", DEFAULT_RUNS_AT_ONCE),
                                min_per_chunk=kw.pop("min_per_chunk", MIN_TEAMS_PER_RUN))
    flat = [s for c in chunks for s in c]
    assert flat == [s for s in ordered if s in eligible]  # every eligible team once, in partition order
    for c in chunks:  # consecutive in the order: no ineligible team inside a range
        i = ordered.index(c[0])
        assert ordered[i:i + len(c)] == c
    return [len(c) for c in chunks]


@pytest.mark.parametrize(("n", "expected"), [
    (1000, [250] * 4),            # one run per slot, each run worker started once
    (1001, [201] * 1 + [200] * 4),  # more than 4 × 250: the fewest runs of ≤ 250, evenly
    (200, [50] * 4),              # fewer teams: still every slot busy
    (60, [30, 30]),               # but not below 25 teams per run
    (10, [10]),
    (10_000, [250] * 40),
])
def test_nightly_runs_are_few_even_and_fill_the_slots(n, expected):
    ts = teams(n)
    assert sizes(ts, set(ts)) == expected


def test_an_ineligible_team_splits_a_range_and_the_rest_stays_even():
    ts = teams(1000)
    out = set(ts) - {ts[100]}
    got = sizes(ts, out)
    assert sum(got) == 999 and max(got) <= 250 and len(got) == 5
    assert got[0] == 100  # the segment before the ineligible team is its own run


def test_one_at_once_and_small_limits():
    ts = teams(7)
    assert sizes(ts, set(ts), max_per_chunk=3, runs_at_once=1, min_per_chunk=1) == [3, 2, 2]
    assert sizes(ts, set(ts), max_per_chunk=50, runs_at_once=1) == [7]
    assert consecutive_chunks(ts, set(), 50) == []
    with pytest.raises(ValueError, match="≥ 1"):
        consecutive_chunks(ts, set(ts), 0)


def test_sync_policy_exposes_the_split():
    policy = SyncPolicyResource()
    assert (policy.max_teams_per_run, policy.runs_at_once) == (MAX_TEAMS_PER_RUN, DEFAULT_RUNS_AT_ONCE)
    with pytest.raises(Exception, match="max_teams_per_run"):
        SyncPolicyResource(max_teams_per_run=0)
