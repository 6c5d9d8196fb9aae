"""Support for the automation tests (issues 6 and 7): a real Dagster instance in a temp dir, the real GitHub
simulator over HTTP (in-process uvicorn on 127.0.0.1), the real app store on SQLite, and the very
definitions of ``definitions.py`` with test resources (simulator URL, one GitHub attempt, no LLM key →
rule-based insights). Fixtures are in conftest.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg
import httpx

import copilot_assets
import insights_assets
import report_assets
from copilot_assets.jobs import RANGE_END, RANGE_START
from copilot_assets.onboarding import connect_team
from copilot_assets.outcomes import RUN_TRIGGER_TAG
from copilot_assets.partitions import TEAMS_PARTITION_NAME, team_day_partitions
from copilot_flow.local_runs import all_assets_and_checks, run_failure_sensor_tick, schedule_tick, tick_sensor
from resources.app_store import StoreResource
from resources.cost import CostResource
from resources.flags import COPILOT_FLAG
from resources.github import GitHubResource
from resources.llm import AnthropicResource
from resources.secrets import Secret
from resources.store import Store, Team
from resources.sync_policy import SyncPolicyResource
from resources.webhooks import AlertsResource
from simulators.github import SimState


def today() -> date:
    return datetime.now(UTC).date()


def nightly_tick(day: date | None = None) -> datetime:
    d = day or today()
    return datetime(d.year, d.month, d.day, 4, 45, tzinfo=UTC)


def token_for(slug: str) -> str:
    return f"gho_{slug.replace('-', '_')}_Token0123456789"


# ----------------------------------------------------------------------------- GitHub simulator
@dataclass
class Sim:
    url: str
    state: SimState

    def set_org(self, org: str, *, tokens: list[str], seats: int = 50,
                faults: list[dict[str, Any]] | None = None, **knobs: Any) -> None:
        """Configure an org over the simulator's admin endpoint (POST /_sim/orgs/{org}); ``knobs`` are other
        OrgConfig fields (metrics_policy, copilot_subscription, ready_lag_days …)."""
        body = {"tokens": tokens, "seats": seats, "faults": faults or [], **knobs}
        httpx.post(f"{self.url}/_sim/orgs/{org}", json=body, timeout=10).raise_for_status()

    def requests_for(self, org: str) -> list[dict[str, Any]]:
        return [r for r in httpx.get(f"{self.url}/_sim/requests", timeout=10).json() if r.get("org") == org]


# ----------------------------------------------------------------------------- the harness
@dataclass
class Harness:
    sim: Sim
    store: Store
    instance: dg.DagsterInstance
    defs: dg.Definitions
    last_connect_message: str = ""
    failure_cursor: str | None = None

    # -- teams
    def add_connected(self, slug: str, *, org: str | None = None, seats: int = 50, **knobs: Any) -> Team:
        """A team connected the real way: simulator org, store row, `connect_team` verified over HTTP."""
        org = org or f"{slug}-org"
        self.sim.set_org(org, tokens=[token_for(slug)], seats=seats, **knobs)
        team = self.store.add_team(slug, name=f"Team {slug}", github_org=org)
        self.last_connect_message = connect_team(self.store, team, Secret(token_for(slug)), base_url=self.sim.url)
        return self.team(slug)

    def team(self, slug: str) -> Team:
        return self.store.get_team(slug)

    def events(self, slug: str) -> list[dict[str, Any]]:
        """Status events of a team, oldest first."""
        return list(reversed(self.store.status_events(self.team(slug).id, limit=1000)))

    def fault(self, slug: str, *faults: dict[str, Any], seats: int = 50, tokens: list[str] | None = None,
              **knobs: Any) -> None:
        """Re-configure the team's simulator org (faults, seats, accepted tokens, other knobs)."""
        t = self.team(slug)
        self.sim.set_org(t.github_org, tokens=tokens or [token_for(slug)], seats=seats, faults=list(faults),
                         **knobs)

    def flag(self, on: bool | None = True) -> None:
        if on is not None:
            self.store.set_flag(COPILOT_FLAG, on)

    # -- Dagster
    def sync_partitions(self) -> Any:
        return tick_sensor(self.defs, self.instance, "copilot_teams_sensor")

    def nightly(self, day: date | None = None) -> Any:
        return schedule_tick(self.defs, self.instance, "copilot_nightly_sync", nightly_tick(day))

    def materialize(self, *, tags: dict[str, str] | None = None, partition_key: Any = None,
                    selection: Any = None) -> dg.ExecuteInProcessResult:
        from copilot_assets.jobs import SYNC_KEYS

        return dg.materialize(
            assets=all_assets_and_checks(self.defs),
            selection=selection if selection is not None else SYNC_KEYS,
            instance=self.instance,
            resources=self.defs.resources,
            tags=tags or {},
            partition_key=partition_key,
            raise_on_error=False,
        )

    def run_request(self, rr: dg.RunRequest) -> dg.ExecuteInProcessResult:
        return self.materialize(tags=dict(rr.tags), partition_key=rr.partition_key, selection=rr.asset_selection)

    def range_run(self, first_team: str, last_team: str, start: date, end: date,
                  extra_tags: dict[str, str] | None = None) -> dg.ExecuteInProcessResult:
        """A range run of team-days, tagged like a UI backfill (no copilot/trigger tag)."""
        tags = {RANGE_START: f"{start.isoformat()}|{first_team}", RANGE_END: f"{end.isoformat()}|{last_team}",
                **(extra_tags or {})}
        return self.materialize(tags=tags)

    def nightly_run(self, day: date | None = None) -> dg.ExecuteInProcessResult:
        """Evaluate the nightly schedule and execute its (single) window run (not the gap fills)."""
        data = self.nightly(day)
        reqs = nightly_window_requests(data)
        assert len(reqs) == 1, (data.skip_message, data.run_requests)
        return self.run_request(reqs[0])

    def failure_sensor(self, result: dg.ExecuteInProcessResult | None = None) -> Any:
        """One tick of copilot_failure_sensor, as the daemon would evaluate it (its first tick catches up
        on the failed runs of the last days; the step has usually applied them already)."""
        assert result is None or not result.success
        data = run_failure_sensor_tick(self.defs, self.instance, cursor=self.failure_cursor)
        self.failure_cursor = data.cursor or self.failure_cursor
        return data

    def tick(self, name: str) -> Any:
        return tick_sensor(self.defs, self.instance, name)

    def night(self, day: date | None = None) -> list[dg.ExecuteInProcessResult]:
        """The nightly of ``day``: the schedule's every run (window and gap fills), then the failure sensor."""
        data = self.nightly(day)
        results = [self.run_request(rr) for rr in data.run_requests or []]
        self.failure_sensor()
        return results

    def materialized(self, result: dg.ExecuteInProcessResult, asset: str) -> set[str]:
        return {e.materialization.partition for e in result.get_asset_materialization_events()
                if e.materialization.asset_key == dg.AssetKey(asset)}

    def range_keys(self, start_key: str, end_key: str) -> set[str]:
        with dg.partition_loading_context(dynamic_partitions_store=self.instance):
            keys = team_day_partitions.get_partition_keys_in_range(dg.PartitionKeyRange(start_key, end_key))
        return {str(k) for k in keys}

    def team_partitions(self) -> list[str]:
        return self.instance.get_dynamic_partitions(TEAMS_PARTITION_NAME)


def step_failures(result: dg.ExecuteInProcessResult) -> list[dict[str, Any]]:
    """The ``failed_team_days`` records of a run's failed steps."""
    from copilot_assets.outcomes import failed_team_days

    out: list[dict[str, Any]] = []
    for ev in result.all_events:
        if ev.is_step_failure and ev.step_failure_data.user_failure_data is not None:
            out.extend(failed_team_days(dict(ev.step_failure_data.user_failure_data.metadata)))
    return out


def nightly_window_requests(data: Any) -> list[dg.RunRequest]:
    """The schedule's runs of the 3-day window (the tick may add gap-fill runs of older days)."""
    return [rr for rr in data.run_requests or [] if rr.tags.get(RUN_TRIGGER_TAG) == "nightly"]


def window(day: date | None = None) -> list[date]:
    d = day or today()
    return [d - timedelta(days=3), d - timedelta(days=2), d - timedelta(days=1)]


def build_defs(store_url: str, github_url: str) -> dg.Definitions:
    return dg.Definitions.merge(
        copilot_assets.definitions(),
        insights_assets.definitions(),
        report_assets.definitions(),
        dg.Definitions(resources={
            "store": StoreResource(database_url=store_url),
            "github": GitHubResource(base_url=github_url, max_attempts=1, backoff_base=0.001,
                                     max_retry_seconds=1.0, timeout_seconds=10.0),
            "llm": AnthropicResource(),  # no ANTHROPIC_API_KEY (conftest): rule-based insights
            "sync_policy": SyncPolicyResource(),
            "cost": CostResource(),
            # fast delivery: a webhook that is down costs a test milliseconds, not the production backoff
            "alerts": AlertsResource(timeout_seconds=2.0, backoff_base_seconds=0.01, message_deadline_seconds=5.0),
        }),
    )
