"""The 2026 fields of the simulated usage reports: pull requests, the cloud agent, code review, Copilot CLI and
app activity, third-party agents, AI credits and the adoption phase (github-copilot-api.md §1.5 A–D).

Every value is a pure function of (org, day, user) seeded apart from the usage data of
simulators/github_data.py, so the counters, users and DAU it builds never change. Consistent by
construction: a user's CLI/app/agent activity is summed into the org's ``totals_by_*``; distinct-user counts
(daily/weekly/monthly) come from the same per-user-day flags; PR merges never exceed PRs created, a median
time to merge is given (> 0) only when something merged, credits are ≥ 0, phases come from a small set.

Fields are absent (the key is left out, as GitHub does) on days before GitHub added them (``ADDED``) and on a
deterministic "field absent" day (``absent_group``: about one day in 13 leaves one group out of every record
of that day). The cloud agent's fields carry the older "coding agent" names before ``CLOUD_AGENT_RENAMED``.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from simulators.github_org import CELLS_CACHED, ORG_DAYS_CACHED, seed

ADDED = {
    "pull_requests": date(2025, 12, 18),
    "cli": date(2026, 4, 10),
    "cloud_agent": date(2026, 4, 10),
    "code_review": date(2026, 4, 22),
    "adoption_phase": date(2026, 5, 29),
    "ai_credits": date(2026, 6, 19),
    "app": date(2026, 7, 28),
    "third_party": date(2026, 8, 7),
}
"""When GitHub added each group of fields (github-copilot-api.md §1.5); earlier days do not carry them."""
CLOUD_AGENT_RENAMED = date(2026, 5, 15)
"""Days before this carry ``used_copilot_coding_agent`` / ``*_copilot_coding_agent_users`` (the old names)."""
ABSENT_EVERY = 13
PHASES = ((1, "passive"), (2, "code_first"), (3, "agent_first"), (4, "multi_agent"))
PHASE_VERSION = "2026-05"
THIRD_PARTY_AGENTS = (("anthropic-claude", "Claude"), ("openai-codex", "Codex"))
COMMENT_TYPES = ("bug_risk", "performance", "readability", "security")
CLI_VERSION = "1.0.12"


@lru_cache(maxsize=65536)
def absent_group(org: str, day: date) -> str | None:
    """The group of 2026 fields left out of every record of ``day`` (about one day in 13), else None."""
    if seed("absent-day", org.lower(), day.isoformat()) % ABSENT_EVERY:
        return None
    groups = sorted(ADDED)
    return groups[seed("absent-group", org.lower(), day.isoformat()) % len(groups)]


def present(group: str, org: str, day: date) -> bool:
    """Whether the ``group`` fields are in the reports of ``day``."""
    return day >= ADDED[group] and absent_group(org, day) != group


def cloud_agent_name(day: date) -> str:
    return "coding" if day < CLOUD_AGENT_RENAMED else "cloud"


@lru_cache(maxsize=CELLS_CACHED)
def flags(org: str, day: date, i: int) -> dict[str, Any]:
    """User i's own draws for ``day`` (the user assumed active): agent and review flags, app and third-party
    use, CLI/app volumes, credits. Drawn in one fixed order whatever the day, so they never shift."""
    rng = random.Random(seed("activity", org.lower(), day.isoformat(), i))
    out: dict[str, Any] = {
        "cloud": rng.random() < 0.18,
        "review_active": rng.random() < 0.22,
        "review_passive": rng.random() < 0.35,
        "app": rng.random() < 0.12,
        "third_party": rng.random() < 0.15,
        "agent": THIRD_PARTY_AGENTS[rng.randrange(len(THIRD_PARTY_AGENTS))],
        "agent_interactions": rng.randint(1, 20),
        "agent_sessions": rng.randint(1, 4),
        "credits": 0.0 if rng.random() < 0.1 else round(rng.uniform(0.5, 40.0), 2),
    }
    for surface in ("cli", "app"):
        sessions = rng.randint(1, 4)
        requests = sessions * rng.randint(1, 8)
        out[f"{surface}_volumes"] = {
            "session_count": sessions,
            "request_count": requests,
            "prompt_count": rng.randint(sessions, requests),
            "prompt_tokens_sum": requests * rng.randint(200, 2000),
            "output_tokens_sum": requests * rng.randint(50, 500),
        }
    return out


VOLUMES = ("session_count", "request_count", "prompt_count", "prompt_tokens_sum", "output_tokens_sum")


def _volumes(v: dict[str, int]) -> dict[str, Any]:
    """A ``totals_by_cli{}`` / ``totals_by_copilot_app{}`` object from summed volumes."""
    tokens = v["prompt_tokens_sum"] + v["output_tokens_sum"]
    return {
        "session_count": v["session_count"],
        "request_count": v["request_count"],
        "prompt_count": v["prompt_count"],
        "token_usage": {
            "output_tokens_sum": v["output_tokens_sum"],
            "prompt_tokens_sum": v["prompt_tokens_sum"],
            "avg_tokens_per_request": round(tokens / v["request_count"], 2) if v["request_count"] else 0.0,
        },
    }


def _cli_version(day: date) -> dict[str, str]:
    return {"cli_version": CLI_VERSION, "sampled_at": f"{day.isoformat()}T12:00:00Z"}


def _phase(f: dict[str, Any], used_cli: bool, used_agent: bool, accepted: int) -> tuple[int, str]:
    if f["cloud"] and (used_cli or f["third_party"]):
        return PHASES[3]
    if f["cloud"] or used_agent:
        return PHASES[2]
    return PHASES[1] if accepted > 0 else PHASES[0]


def user_fields(org: str, day: date, i: int, used_cli: bool, used_agent: bool, accepted: int) -> dict[str, Any]:
    """The 2026 keys of user i's users-1-day record (breakdown objects only when the user had that activity)."""
    f = flags(org, day, i)
    out: dict[str, Any] = {}
    if present("cli", org, day) and used_cli:
        out["totals_by_cli"] = {**_volumes(f["cli_volumes"]), "last_known_cli_version": _cli_version(day)}
    if present("app", org, day):
        out["used_copilot_app"] = f["app"]
        if f["app"]:
            out["totals_by_copilot_app"] = _volumes(f["app_volumes"])
    if present("third_party", org, day) and f["third_party"]:
        agent_id, name = f["agent"]
        out["totals_by_3rd_party_agent"] = [{"agent_id": agent_id, "agent_name": name,
                                             "user_initiated_interaction_count": f["agent_interactions"]}]
    if present("cloud_agent", org, day):
        out[f"used_copilot_{cloud_agent_name(day)}_agent"] = f["cloud"]
    if present("code_review", org, day):
        out["used_copilot_code_review_active"] = f["review_active"]
        out["used_copilot_code_review_passive"] = f["review_passive"]
    if present("ai_credits", org, day):
        out["ai_credits_used"] = f["credits"]
    if present("adoption_phase", org, day):
        number, phase = _phase(f, used_cli, used_agent, accepted)
        out["ai_adoption_phase"] = {"phase_number": number, "phase": phase, "version": PHASE_VERSION}
    return out


def _distinct(org: str, day: date, days: int, active_on: Any, flag: str) -> int:
    """Distinct users with ``flag`` over the ``days`` days ending on ``day`` (days before GitHub added the
    field count nothing): a distinct count, never a sum of daily counts."""
    since = ADDED[_GROUP_OF[flag]]
    users: set[int] = set()
    for k in range(days):
        d = day - timedelta(days=k)
        if d >= since:
            users |= _flagged(org, d, flag, active_on(d))
    return len(users)


@lru_cache(maxsize=4 * ORG_DAYS_CACHED)
def _flagged(org: str, day: date, flag: str, active: tuple[int, ...]) -> frozenset[int]:
    """The users of ``active`` whose draw of ``day`` has ``flag`` (each day is counted in up to 28 windows)."""
    return frozenset(i for i in active if flags(org, day, i)[flag])


_GROUP_OF = {"cloud": "cloud_agent", "review_active": "code_review", "review_passive": "code_review"}


def pull_requests(org: str, day: date, seats: int) -> dict[str, Any]:
    """The org-day's ``pull_requests{}``: merges ≤ created, Copilot's share ≤ the whole, a median time to
    merge (> 0) only when something merged (else null, as GitHub omits it), suggestions by comment type
    adding up to Copilot's suggestion totals."""
    rng = random.Random(seed("pull-requests", org.lower(), day.isoformat()))
    created = rng.randint(1, max(2, seats // 3))
    merged = rng.randint(0, created)
    reviewed = rng.randint(0, created)
    by_copilot = rng.randint(0, created // 3) if day >= ADDED["cloud_agent"] else 0
    merged_by_copilot = rng.randint(0, min(merged, by_copilot))
    reviewed_by_copilot = rng.randint(0, reviewed) if day >= ADDED["code_review"] else 0
    merged_reviewed_by_copilot = rng.randint(0, min(merged, reviewed_by_copilot))
    by_type = []
    for comment_type in COMMENT_TYPES:
        n = rng.randint(0, 8) if reviewed_by_copilot else 0
        if n:
            by_type.append({"comment_type": comment_type, "total_copilot_suggestions": n,
                            "total_copilot_applied_suggestions": rng.randint(0, n)})
    copilot_suggestions = sum(t["total_copilot_suggestions"] for t in by_type)
    copilot_applied = sum(t["total_copilot_applied_suggestions"] for t in by_type)
    human = rng.randint(0, 40)

    def median(n: int) -> float | None:
        return round(rng.uniform(12.0, 2880.0), 1) if n else None

    return {
        "total_created": created,
        "total_reviewed": reviewed,
        "total_merged": merged,
        "median_minutes_to_merge": median(merged),
        "total_suggestions": copilot_suggestions + human,
        "total_applied_suggestions": copilot_applied + rng.randint(0, human),
        "total_created_by_copilot": by_copilot,
        "total_reviewed_by_copilot": reviewed_by_copilot,
        "total_merged_created_by_copilot": merged_by_copilot,
        "total_merged_reviewed_by_copilot": merged_reviewed_by_copilot,
        "median_minutes_to_merge_copilot_authored": median(merged_by_copilot),
        "median_minutes_to_merge_copilot_reviewed": median(merged_reviewed_by_copilot),
        "total_copilot_suggestions": copilot_suggestions,
        "total_copilot_applied_suggestions": copilot_applied,
        "copilot_suggestions_by_comment_type": by_type,
    }


def org_fields(org: str, day: date, seats: int, users: Iterable[tuple[int, bool, bool, int]],
               active_on: Any) -> dict[str, Any]:
    """The 2026 keys of the org's aggregate day object, from the same per-user draws as the user records.
    ``users``: (i, used_cli, used_agent, code acceptances) of each user active that day; ``active_on(d)``:
    the users active on day d (for the weekly and monthly distinct counts)."""
    users = list(users)
    out: dict[str, Any] = {}
    if present("cli", org, day):
        cli = [flags(org, day, i)["cli_volumes"] for i, used_cli, _, _ in users if used_cli]
        if cli:  # no CLI activity that day: GitHub leaves both out
            out["daily_active_cli_users"] = len(cli)
            out["totals_by_cli"] = {**_volumes({k: sum(v[k] for v in cli) for k in VOLUMES}),
                                    "last_known_cli_version": _cli_version(day)}
    if present("cloud_agent", org, day):
        name = cloud_agent_name(day)
        for span, days in (("daily", 1), ("weekly", 7), ("monthly", 28)):
            out[f"{span}_active_copilot_{name}_agent_users"] = _distinct(org, day, days, active_on, "cloud")
    if present("code_review", org, day):
        for span, days in (("daily", 1), ("weekly", 7), ("monthly", 28)):
            out[f"{span}_active_copilot_code_review_users"] = _distinct(org, day, days, active_on, "review_active")
            out[f"{span}_passive_copilot_code_review_users"] = _distinct(org, day, days, active_on,
                                                                          "review_passive")
    if present("app", org, day):
        app = [flags(org, day, i)["app_volumes"] for i, *_ in users if flags(org, day, i)["app"]]
        out["daily_active_copilot_app_users"] = len(app)
        if app:
            out["totals_by_copilot_app"] = _volumes({k: sum(v[k] for v in app) for k in VOLUMES})
    if present("third_party", org, day):
        agents: dict[tuple[str, str], list[int]] = {}
        for i, *_ in users:
            f = flags(org, day, i)
            if f["third_party"]:
                acc = agents.setdefault(f["agent"], [0, 0])
                acc[0] += f["agent_interactions"]
                acc[1] += f["agent_sessions"]
        if agents:
            out["totals_by_3rd_party_agent"] = [
                {"agent_id": a, "agent_name": n, "user_initiated_interaction_count": x, "session_count": s}
                for (a, n), (x, s) in sorted(agents.items())]
    if present("adoption_phase", org, day):
        counts: dict[tuple[int, str], int] = {}
        for i, used_cli, used_agent, accepted in users:
            key = _phase(flags(org, day, i), used_cli, used_agent, accepted)
            counts[key] = counts.get(key, 0) + 1
        out["totals_by_ai_adoption_phase"] = [{"phase_number": n, "phase": p, "total_engaged_users": c}
                                              for (n, p), c in sorted(counts.items())]
    if present("pull_requests", org, day):
        out["pull_requests"] = pull_requests(org, day, seats)
    return out
