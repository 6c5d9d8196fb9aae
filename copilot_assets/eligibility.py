"""Which teams may sync (and so may have fresh data): one rule for the nightly, the gap fill and insights.

A team is syncable when it is ``connected``, ``integration_copilot_enabled`` is on for it (master first,
decision 1) and its stored credential can be used (present and decryptable with the configured key).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from resources.flags import COPILOT_FLAG, resolve
from resources.statuses import CONNECTED
from resources.store import Store, Team


@dataclass
class Eligibility:
    teams: list[Team] = field(default_factory=list)  # syncable, in slug order
    skipped: dict[str, str] = field(default_factory=dict)  # slug → why not
    unusable_credentials: dict[int, str] = field(default_factory=dict)  # team id → credential reason

    @property
    def slugs(self) -> set[str]:
        return {t.slug for t in self.teams}


def syncable_teams(store: Store) -> Eligibility:
    """Every team, sorted into syncable or skipped with the reason (no GitHub call)."""
    out = Eligibility()
    global_value, overrides = store.flag_values(COPILOT_FLAG)
    for t in store.list_teams():
        if t.copilot_status != CONNECTED:
            out.skipped[t.slug] = f"status {t.copilot_status}" + (f" ({t.copilot_status_reason})"
                                                                   if t.copilot_status_reason else "")
            continue
        decision = resolve(global_value, overrides.get(t.id))
        if not decision.enabled:
            out.skipped[t.slug] = f"{COPILOT_FLAG}: {decision.reason}"
            continue
        problem = store.credential_problem(t.id)
        if problem is not None:
            out.skipped[t.slug] = f"{problem}: needs reconnection (`copilot-flow teams connect {t.slug}`)"
            out.unusable_credentials[t.id] = problem
            continue
        out.teams.append(t)
    return out
