"""Child process of test_rel_crash: materialize one team-day of copilot_usage, and (with a marker path)
freeze inside Store.replace_team_days's transaction half-way through its writes, so the parent can SIGKILL
it mid-write: on SQLite after the SECOND team-day DELETE (the first table deleted and re-inserted, the second
deleted and not re-inserted); on PostgreSQL, where every DELETE goes first in one statement string, after the
first table's COPY (every table deleted, the first re-inserted, the others not).

    python crash_child.py STORE_URL SIM_URL TEAM DAY [MARKER]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def main(store_url: str, sim_url: str, team: str, day: str, marker: str | None) -> int:
    import dagster as dg
    import sqlalchemy as sa

    from copilot_assets.partitions import TEAMS_PARTITION_NAME
    from copilot_flow.local_runs import all_assets_and_checks
    from definitions import defs
    from resources import tables
    from resources.app_store import StoreResource
    from resources.cost import CostResource
    from resources.github import GitHubResource
    from resources.llm import AnthropicResource

    if marker:
        deletes = []

        def freeze(conn, clauseelement, multiparams, params, execution_options, result) -> None:
            if isinstance(clauseelement, sa.sql.dml.Delete) and clauseelement.table.name in tables.TEAM_DAY_TABLES:
                deletes.append(clauseelement.table.name)
                if len(deletes) == 2:
                    # atomically: the parent polls for the marker and must never read it half-written
                    tmp = Path(marker).with_suffix(".tmp")
                    tmp.write_text(",".join(deletes))
                    os.replace(tmp, marker)
                    time.sleep(120)  # the parent kills us here

        sa.event.listen(sa.engine.Engine, "after_execute", freeze)

        from resources.store import team_days

        real_copy = team_days.copy_rows

        def copy_then_freeze(conn, table, rows):  # PostgreSQL: COPY is not a SQLAlchemy statement
            done = real_copy(conn, table, rows)
            if done and not deletes:
                deletes.extend(["all team-day tables deleted", table.name])
                tmp = Path(marker).with_suffix(".tmp")
                tmp.write_text(",".join(deletes))
                os.replace(tmp, marker)
                time.sleep(120)  # the parent kills us here
            return done

        team_days.copy_rows = copy_then_freeze

    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(TEAMS_PARTITION_NAME, [team])
        result = dg.materialize(
            assets=all_assets_and_checks(defs),
            selection=[dg.AssetKey("copilot_usage")],
            instance=instance,
            resources={"store": StoreResource(database_url=store_url),
                       "github": GitHubResource(base_url=sim_url, max_attempts=2, backoff_base=0.01),
                       "llm": AnthropicResource(), "cost": CostResource()},
            partition_key=dg.MultiPartitionKey({"date": day, "team": team}),
            raise_on_error=False,
        )
    print("SUCCESS" if result.success else "FAILURE", flush=True)
    return 0 if result.success else 1


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(*args[:4], args[4] if len(args) > 4 else None))
