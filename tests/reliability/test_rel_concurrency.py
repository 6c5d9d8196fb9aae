"""Concurrency (docs/reliability.md: "two runs of the same team-day at once"): two Dagster runs (two threads, two
instances, one app store) are forced to overlap INSIDE Store.replace_team_days. The same team-day never ends
with duplicated or mixed rows; runs of different teams write in parallel."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from typing import Any

import dagster as dg
import sqlalchemy as sa
from flow_support import USAGE, expected_org_day, mats, step_failure, today
from rel_support import fast_github, sends_team_day_delete, team_day_rows

from copilot_assets.partitions import TEAMS_PARTITION_NAME
from copilot_flow.local_runs import all_assets_and_checks
from resources.app_store import StoreResource
from resources.cost import CostResource
from resources.llm import AnthropicResource

USAGE_TABLES = ("copilot_usage_daily", "copilot_language_daily", "copilot_editor_daily",
                "copilot_model_daily", "copilot_feature_daily", "copilot_raw_reports")


class Rendezvous:
    """SQLAlchemy hooks on the store's engine: a writer that has run its first team-day DELETE waits (up to
    ``wait_s``) until the other writer has reached its own first team-day DELETE."""

    def __init__(self, engine: sa.Engine, wait_s: float, until: str = "arrived") -> None:
        self.engine = engine
        self.wait_s = wait_s
        self.until = until  # "arrived": the other writer reached its DELETE; "inside": it also executed it
        self.local = threading.local()
        self.cond = threading.Condition()
        self.arrived: list[str] = []  # thread names, at their first DELETE (before it executes)
        self.inside: list[str] = []  # thread names, after their first DELETE executed (in the transaction)
        self.met: dict[str, bool] = {}

    @staticmethod
    def _starts_write(sql: str) -> bool:  # the per-team-day lock (PostgreSQL) or the first DELETE
        return sends_team_day_delete(sql) or "pg_advisory_xact_lock" in sql

    def before(self, conn, cursor, statement, *args) -> None:
        if self._starts_write(statement) and not getattr(self.local, "arrived", False):
            self.local.arrived = True
            with self.cond:
                self.arrived.append(f"{threading.get_ident()}")
                self.cond.notify_all()

    def after(self, conn, cursor, statement, *args) -> None:
        if sends_team_day_delete(statement) and not getattr(self.local, "inside", False):
            self.local.inside = True
            name = f"{threading.get_ident()}"
            with self.cond:
                self.inside.append(name)
                self.cond.notify_all()
                self.met[name] = self.cond.wait_for(lambda: len(getattr(self, self.until)) >= 2, timeout=self.wait_s)

    def wait_arrivals(self, n: int, timeout: float = 60) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.arrived) >= n, timeout=timeout)

    @contextmanager
    def installed(self) -> Iterator[Rendezvous]:
        sa.event.listen(self.engine, "before_cursor_execute", self.before)
        sa.event.listen(self.engine, "after_cursor_execute", self.after)
        try:
            yield self
        finally:
            sa.event.remove(self.engine, "before_cursor_execute", self.before)
            sa.event.remove(self.engine, "after_cursor_execute", self.after)


def run_in_threads(flow, fast_tmp, rv: Rendezvous,
                   jobs: list[tuple[str, str]]) -> dict[str, dg.ExecuteInProcessResult]:
    """Materialize copilot_usage for each (team, day) in its own thread with its own Dagster instance.

    Writer i+1 starts once writer i waits inside its transaction: Dagster's run setup reconfigures Python
    logging (dictConfig), which can deadlock against another thread that is logging at that moment."""
    from definitions import defs

    results: dict[str, Any] = {}

    def one(i: int, team: str, day: str, instance: dg.DagsterInstance) -> None:
        try:
            results[f"w{i}"] = dg.materialize(
                assets=all_assets_and_checks(defs), selection=[USAGE], instance=instance,
                resources={"store": StoreResource(database_url=flow.store_url), "github": fast_github(flow),
                           "llm": AnthropicResource(), "cost": CostResource()},
                partition_key=dg.MultiPartitionKey({"date": day, "team": team}), raise_on_error=False,
            )
        except BaseException as exc:  # pragma: no cover - reported below
            results[f"w{i}"] = exc

    with ExitStack() as stack:
        threads = []
        for i, (team, day) in enumerate(jobs):
            home = fast_tmp / f"instance-{i}"
            home.mkdir()
            instance = stack.enter_context(dg.instance_for_test(temp_dir=str(home)))
            instance.add_dynamic_partitions(TEAMS_PARTITION_NAME, [team])
            if i:
                rv.wait_arrivals(i)
            t = threading.Thread(target=one, args=(i, team, day, instance), name=f"w{i}")
            t.start()
            threads.append(t)
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads)
    for name, r in results.items():
        assert isinstance(r, dg.ExecuteInProcessResult), f"{name} raised {r!r}"
    return results


def test_two_runs_of_the_same_team_day_at_once_never_duplicate_rows(flow_any, fast_tmp) -> None:
    flow = flow_any
    team = flow.add_team("acme", "acme-org")
    day = today() - timedelta(days=3)
    key = f"{day.isoformat()}|acme"
    # one uninterrupted run: the reference rows
    assert flow.team_day("acme", day, USAGE).success
    reference = team_day_rows(flow.store.engine, team.id, day, USAGE_TABLES)
    assert len(reference["copilot_usage_daily"]) == 1
    assert reference["copilot_usage_daily"][0]["daily_active_users"] == expected_org_day("acme-org", day)["dau"]

    rv = Rendezvous(flow.store.engine, wait_s=30.0)
    with rv.installed():
        results = run_in_threads(flow, fast_tmp, rv, [("acme", day.isoformat()), ("acme", day.isoformat())])
    # the two writers really overlapped: the first was inside its transaction when the second arrived
    assert len(set(rv.arrived)) == 2
    assert next(iter(rv.met.values())) is True

    # exactly one run's rows, never duplicated or mixed
    assert team_day_rows(flow.store.engine, team.id, day, USAGE_TABLES) == reference
    outcomes = {}
    for name, r in results.items():
        if r.success:
            assert set(mats(r)) == {key}
            outcomes[name] = "success"
        else:  # a clean failure of this team-day, retryable (no corrupted data, no crash)
            description, md = step_failure(r)
            [failed] = md["failed_team_days"]
            assert (failed["team"], failed["day"]) == ("acme", day.isoformat()), description
            outcomes[name] = failed["error_kind"]
    assert outcomes == {"w0": "success", "w1": "success"}, outcomes


def test_runs_of_different_teams_write_in_parallel(flow_any, fast_tmp) -> None:
    flow = flow_any
    a = flow.add_team("acme", "acme-org")
    b = flow.add_team("beta", "beta-org")
    day = today() - timedelta(days=3)
    is_pg = flow.store_url.startswith("postgresql")

    rv = Rendezvous(flow.store.engine, wait_s=30.0, until="inside" if is_pg else "arrived")
    with rv.installed():
        results = run_in_threads(flow, fast_tmp, rv, [("acme", day.isoformat()), ("beta", day.isoformat())])
    # (no timing assertion: on a loaded machine the runs are slow; that they overlapped is asserted below)
    assert all(r.success for r in results.values())
    if is_pg:
        # both transactions were open at the same time: neither team's write waited for the other's
        assert len(set(rv.inside)) == 2
        assert list(rv.met.values()) == [True, True]
    for team, org in ((a, "acme-org"), (b, "beta-org")):
        rows = team_day_rows(flow.store.engine, team.id, day, ("copilot_usage_daily",))["copilot_usage_daily"]
        assert [r["daily_active_users"] for r in rows] == [expected_org_day(org, day)["dau"]]

