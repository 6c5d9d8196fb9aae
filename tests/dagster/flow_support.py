"""Support for the Dagster tests of the Copilot ingestion assets (issue 5).

Everything is real: a Dagster instance in a temp ``DAGSTER_HOME`` (``dg.instance_for_test``), the GitHub
simulator served over HTTP on 127.0.0.1 by uvicorn in a background thread, the app store (SQLite file; the
PostgreSQL variant uses its own schemas), and the assets/checks of ``definitions.defs`` run by
``dg.materialize`` with test resources (simulator URL, small backoff).
Fixtures are in conftest.py.

Expected values are computed from ``simulators.github_data`` directly (the simulator's own generator), never
from the code under test.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml

from copilot_assets.partitions import TEAMS_PARTITION_NAME
from copilot_flow.local_runs import all_assets_and_checks
from resources import tables
from resources.app_store import StoreResource, store_for
from resources.cost import CostResource
from resources.flags import COPILOT_FLAG
from resources.github import GitHubResource
from resources.llm import AnthropicResource
from resources.secrets import Secret
from resources.store import Store, Team
from resources.sync_policy import SyncPolicyResource
from simulators import github_data as gd
from simulators.github import SimState

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
USAGE = dg.AssetKey("copilot_usage")
USER_USAGE = dg.AssetKey("copilot_user_usage")
SEATS = dg.AssetKey("copilot_seats")
BREAKDOWNS = ("copilot_language_daily", "copilot_editor_daily", "copilot_model_daily", "copilot_feature_daily")


def today() -> date:
    return datetime.now(UTC).date()


def token_for(slug: str) -> str:
    return f"gho_{slug.replace('-', '_')}_Token0123456789abcdef"


# ----------------------------------------------------------------------------- expected data (simulator side)
def expected_org_day(org: str, day: date, seats: int = 50) -> dict[str, Any]:
    """What the simulator serves for organization-1-day of ``org``/``day``, reduced to checkable numbers."""
    obj = gd.org_day(org, day, seats)
    return {
        "raw": obj,
        "dau": obj["daily_active_users"],
        "gen": obj["code_generation_activity_count"],
        "acc": obj["code_acceptance_activity_count"],
        "loc_added": obj["loc_added_sum"],
        "languages": {r["language"] for r in obj["totals_by_language_feature"]},
        "editors": {r["ide"] for r in obj["totals_by_ide"]},
        "models": {r["model"] for r in obj["totals_by_model_feature"]},
        "features": {r["feature"] for r in obj["totals_by_feature"]},
        "rate": min(obj["code_acceptance_activity_count"], obj["code_generation_activity_count"])
        / obj["code_generation_activity_count"],  # exact: stored ratios are not rounded
    }


def expected_users(org: str, day: date, seats: int = 50) -> dict[str, dict[str, int]]:
    """login → counters of every user active that day (users-1-day)."""
    return {r["user_login"]: {"user_id": r["user_id"], "gen": r["code_generation_activity_count"],
                              "acc": r["code_acceptance_activity_count"], "loc_added": r["loc_added_sum"]}
            for r in gd.users_1_day_rows(org, day, seats)}


def expected_github_teams(org: str, day: date, seats: int = 50) -> dict[str, dict[str, int]]:
    """GitHub team slug → {team_id, active_users, gen} for teams with ≥ 5 members and ≥ 1 active member."""
    members = gd.team_members(seats)
    active = set(gd.active_users(org, day, seats))
    users = {r["user_id"]: r for r in gd.users_1_day_rows(org, day, seats)}
    out: dict[str, dict[str, int]] = {}
    for slug, idx in members.items():
        if len(idx) < gd.MIN_TEAM_SEATS:
            continue
        act = [i for i in idx if i in active]
        if act:
            out[slug] = {"team_id": gd.team_id(org, slug), "active_users": len(act),
                         "gen": sum(users[gd.user_id(i)]["code_generation_activity_count"] for i in act)}
    return out


# ----------------------------------------------------------------------------- the harness
@dataclass
class Flow:
    sim_url: str
    sim_state: SimState
    store: Store
    store_url: str
    instance: dg.DagsterInstance
    teams: dict[str, Team] = field(default_factory=dict)

    # -- setup
    def add_team(self, slug: str, org: str, *, seats: int = 50, **org_cfg: Any) -> Team:
        """Simulator org + store row + credential, connected the product's way (verified over HTTP)."""
        from copilot_assets.onboarding import connect_team

        self.sim_state.set_org(org, tokens=[token_for(slug)], seats=seats, **org_cfg)
        if self.store.flag_values(COPILOT_FLAG)[0] is None:  # the master switch (docs/architecture.md decision 1): on
            self.store.set_flag(COPILOT_FLAG, True)
        team = self.store.add_team(slug, name=f"Team {slug}", github_org=org)
        connect_team(self.store, team, Secret(token_for(slug)), base_url=self.sim_url)
        self.instance.add_dynamic_partitions(TEAMS_PARTITION_NAME, [slug])
        self.teams[slug] = self.store.get_team(slug)
        assert self.teams[slug].copilot_status == "connected"
        return self.teams[slug]

    def set_org(self, slug: str, **cfg: Any) -> None:
        """Reconfigure the team's simulator org (faults, tokens, history_start …)."""
        cfg.setdefault("tokens", [token_for(slug)])
        cfg.setdefault("seats", 50)
        self.sim_state.set_org(self.teams[slug].github_org, **cfg)

    def resources(self) -> dict[str, Any]:
        return {
            "store": StoreResource(database_url=self.store_url),
            "github": GitHubResource(base_url=self.sim_url, max_attempts=2, backoff_base=0.01,
                                     max_retry_seconds=2.0, timeout_seconds=10.0),
            "llm": AnthropicResource(),
            "sync_policy": SyncPolicyResource(),
            "cost": CostResource(),
        }

    # -- runs
    def materialize(self, *assets: dg.AssetKey, partition_key: Any = None,
                    tags: dict[str, str] | None = None) -> dg.ExecuteInProcessResult:
        from definitions import defs

        return dg.materialize(
            assets=all_assets_and_checks(defs),
            selection=list(assets) or [USAGE],
            instance=self.instance,
            resources=self.resources(),
            partition_key=partition_key,
            tags=tags or {},
            raise_on_error=False,
        )

    def team_day(self, slug: str, day: date, *assets: dg.AssetKey) -> dg.ExecuteInProcessResult:
        key = dg.MultiPartitionKey({"date": day.isoformat(), "team": slug})
        return self.materialize(*assets, partition_key=key)

    def range_run(self, first_team: str, last_team: str, start: date, end: date,
                  *assets: dg.AssetKey) -> dg.ExecuteInProcessResult:
        tags = {RANGE_START: f"{start.isoformat()}|{first_team}", RANGE_END: f"{end.isoformat()}|{last_team}"}
        return self.materialize(*assets, tags=tags)

    # -- reading back
    def rows(self, table: str, slug: str, day: date | None = None) -> list[dict[str, Any]]:
        t = tables.metadata.tables[table]
        q = sa.select(t).where(t.c.team_id == self.teams[slug].id)
        if day is not None:
            q = q.where(t.c.day == day)
        pk = [c for c in t.primary_key.columns]
        with self.store.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q.order_by(*pk))]

    def count(self, table: str, slug: str, day: date | None = None) -> int:
        return self.store.count_rows(table, self.teams[slug].id, day)

    def raw_report(self, slug: str, day: date, report: str) -> list[dict[str, Any]]:
        t = tables.copilot_raw_reports
        with self.store.engine.connect() as conn:
            payload = conn.execute(sa.select(t.c.payload).where(
                t.c.team_id == self.teams[slug].id, t.c.day == day, t.c.report == report)).scalar_one()
        return json.loads(payload)

    def observations(self, slug: str, day: date) -> list[dict[str, Any]]:
        t = tables.copilot_report_observations
        with self.store.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.select(t).where(
                t.c.team_id == self.teams[slug].id, t.c.day == day).order_by(t.c.id))]

    def snapshot(self, slug: str, day: date) -> dict[str, list[dict[str, Any]]]:
        """All usage tables of one team-day, without the volatile fetched_at."""
        out = {}
        for name in ("copilot_usage_daily", *BREAKDOWNS, "copilot_user_daily", "copilot_github_team_daily"):
            out[name] = [{k: v for k, v in r.items() if k != "fetched_at"} for r in self.rows(name, slug, day)]
        return out

    def requests(self, slug: str) -> list[dict[str, Any]]:
        org = self.teams[slug].github_org
        return [r for r in self.sim_state.request_log() if r["org"] == org]

    def materialized(self, asset: dg.AssetKey = USAGE) -> set[str]:
        return {str(k) for k in self.instance.get_materialized_partitions(asset)}

    def logs(self, result: dg.ExecuteInProcessResult) -> list[str]:
        return [e.user_message for e in self.instance.all_logs(result.run_id)]


def mats(result: dg.ExecuteInProcessResult, asset: dg.AssetKey = USAGE) -> dict[str, dict[str, Any]]:
    """partition → metadata values (plain Python) of the run's materializations of ``asset``."""
    out = {}
    for ev in result.get_asset_materialization_events():
        m = ev.materialization
        if m.asset_key == asset:
            out[str(m.partition)] = {k: v.value for k, v in m.metadata.items()}
    return out


def step_failure(result: dg.ExecuteInProcessResult) -> tuple[str, dict[str, Any]]:
    """(description, metadata values) of the run's one user Failure."""
    failures = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert failures, "the run has no step failure"
    data = failures[-1].step_failure_data.user_failure_data
    assert data is not None, failures[-1].step_failure_data.error
    return data.description or "", {k: v.value for k, v in data.metadata.items()}


def checks(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


@contextmanager
def make_flow(tmp_path, sim: tuple[str, SimState], store_url: str,
              instance_overrides: dict[str, Any] | None = None) -> Iterator[Flow]:
    url, state = sim
    store = store_for(store_url)
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    try:
        with dg.instance_for_test(temp_dir=str(home), overrides=instance_overrides) as instance:
            yield Flow(sim_url=url, sim_state=state, store=store, store_url=store_url, instance=instance)
    finally:
        store.engine.dispose()


@contextmanager
def pg_schema(base_url: str) -> Iterator[tuple[str, str]]:
    """A fresh PostgreSQL schema (dropped afterwards) and a URL whose search_path is that schema."""
    schema = f"d_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{sep}options={quote(f'-csearch_path={schema}')}", schema
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()




def postgres_instance_storages(url: str) -> dict:
    """The storage entries of the repo's dagster.postgres.yaml, with ``url`` instead of DAGSTER_PG_URL."""
    cfg = yaml.safe_load((Path(__file__).resolve().parents[2] / "dagster.postgres.yaml").read_text())
    out = {}
    for key in ("run_storage", "event_log_storage", "schedule_storage"):
        entry = dict(cfg[key])
        assert entry["config"]["postgres_url"] == {"env": "DAGSTER_PG_URL"}
        entry["config"] = {**entry["config"], "postgres_url": url}
        out[key] = entry
    return out



def failed_partitions(flow: Flow, asset: dg.AssetKey = USAGE) -> set[str]:
    """The partitions the instance itself records as failed for ``asset`` (the UI's red squares)."""
    from dagster._core.storage.partition_status_cache import get_and_update_asset_status_cache_value

    from copilot_assets.partitions import team_day_partitions

    with dg.partition_loading_context(dynamic_partitions_store=flow.instance):
        value = get_and_update_asset_status_cache_value(flow.instance, asset, team_day_partitions,
                                                        dynamic_partitions_loader=flow.instance)
        assert value is not None
        subset = value.deserialize_failed_partition_subsets(team_day_partitions)
        return {str(k) for k in subset.get_partition_keys()}


def day_keys(slug: str, start: date, end: date) -> set[str]:
    out, d = set(), start
    while d <= end:
        out.add(f"{d.isoformat()}|{slug}")
        d += timedelta(days=1)
    return out


# ----------------------------------------------------------------------------- fixtures shared by the Dagster,
# reliability and security tests (their conftest.py files import them from here)
@pytest.fixture
def sim(_github_server: tuple[str, SimState]) -> Iterator[tuple[str, SimState]]:
    """The session's GitHub simulator (tests/conftest.py), reset before and after the test."""
    url, state = _github_server
    state.reset()
    yield url, state
    deadline = time.monotonic() + 5
    while any(state.stats()["in_flight"].values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    state.reset()


@pytest.fixture
def fast_tmp(tmp_path) -> Iterator[Path]:
    """A temp dir on tmpfs when the machine has one: the SQLite instance commits every event (fsync)."""
    if not Path("/dev/shm").is_dir():
        yield tmp_path
        return
    path = Path(tempfile.mkdtemp(prefix="copilot-flow-test-", dir="/dev/shm"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def flow(fast_tmp, sim) -> Iterator[Flow]:
    """A flow whose app store is SQLite."""
    with make_flow(fast_tmp, sim, f"sqlite:///{fast_tmp / 'store.db'}") as f:
        yield f
