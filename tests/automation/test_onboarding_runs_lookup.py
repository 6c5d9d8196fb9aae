"""The onboarding sensor finds each team's latest run of its current step and cycle with a few batched
queries (issue 9: 1,000 teams onboarding at once); earlier cycles, other steps and other teams never count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg

from copilot_assets.sensors import (
    ONBOARDING_CYCLE_TAG,
    ONBOARDING_STEP_TAG,
    ONBOARDING_TAG,
    _cycle,
    _latest_runs,
)


@dataclass
class FakeTeam:
    slug: str
    onboarding_pipeline_status: str
    onboarding_started_at: datetime | None


@dg.op
def _noop() -> None:
    return None


@dg.job
def _noop_job() -> None:
    _noop()


def _run(instance: dg.DagsterInstance, team: FakeTeam, step: str, cycle: str) -> dg.DagsterRun:
    return instance.create_run_for_job(
        _noop_job, tags={ONBOARDING_TAG: team.slug, ONBOARDING_STEP_TAG: step, ONBOARDING_CYCLE_TAG: cycle})


def test_latest_runs_per_team_step_and_cycle_in_batches() -> None:
    started = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    teams = [FakeTeam(f"t{i:03d}", "syncing_copilot", started) for i in range(7)]
    teams[1].onboarding_pipeline_status = "llm_processing"
    with dg.instance_for_test() as instance:
        old_cycle = _run(instance, teams[0], "syncing_copilot", "2026-01-01T00:00:00+00:00")
        first = _run(instance, teams[0], "syncing_copilot", _cycle(teams[0]))
        newest = _run(instance, teams[0], "syncing_copilot", _cycle(teams[0]))
        _run(instance, teams[1], "syncing_copilot", _cycle(teams[1]))  # an earlier step of team 1
        insights = _run(instance, teams[1], "llm_processing", _cycle(teams[1]))
        other = _run(instance, FakeTeam("not-asked", "syncing_copilot", started), "syncing_copilot",
                     _cycle(teams[0]))
        for t in teams[2:]:
            _run(instance, t, "syncing_copilot", "2025-12-01T00:00:00+00:00")  # only earlier cycles

        latest = _latest_runs(instance, teams, chunk=3)  # 3 batches for 7 teams

    assert {k: r.run_id for k, r in latest.items()} == {
        ("t000", "syncing_copilot", _cycle(teams[0])): newest.run_id,
        ("t001", "llm_processing", _cycle(teams[1])): insights.run_id,
    }
    assert newest.run_id not in (first.run_id, old_cycle.run_id, other.run_id)
