"""Feature-flag resolution (docs/architecture.md decision 1), pure.

Master first: with the global flag off (or never set) nothing syncs. With it on, a team's override,
where set, decides for that team; no override means on.
"""

from __future__ import annotations

from dataclasses import dataclass

COPILOT_FLAG = "integration_copilot_enabled"
KNOWN_FLAGS = (COPILOT_FLAG,)


@dataclass(frozen=True)
class FlagDecision:
    enabled: bool
    reason: str


def resolve(global_value: bool | None, team_value: bool | None) -> FlagDecision:
    if not global_value:
        state = "off" if global_value is False else "not set"
        return FlagDecision(False, f"global flag is {state}")
    if team_value is None:
        return FlagDecision(True, "global flag on, no team override")
    return FlagDecision(team_value, f"team override {'on' if team_value else 'off'}")
