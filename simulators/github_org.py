"""Who is in a simulated GitHub org: deterministic ids (sha256 seeds, never Python's hash()), users
``dev00001``… with ``user_id = 100000 + i`` (the same logins in every org on purpose), their kind and teams,
who is active on a day, and the org's seeded quirks (no ``enterprise_id``; 204 or 404 for a day without a
report). The usage and
seat data built on them: simulators/github_data.py (which re-exports these names)."""

from __future__ import annotations

import hashlib
import random
from datetime import date
from functools import lru_cache

IDES = ("vscode", "jetbrains", "neovim", "visualstudio")
TEAMS = ("frontend", "backend", "platform", "data", "mobile")
TINY_TEAM = "tiny"  # fewer than 5 members: absent from user-teams reports (GitHub's 5-seat rule)
MIN_TEAM_SEATS = 5
ACTIVE_FRACTION = 0.7  # of "regular" seat holders, per day
# Cache sizes of the per-(org, day) and per-(org, day, user) draws: a 1,000-team nightly has about 4 runs ×
# 50 orgs × 28 days in flight, and an org's 28-day usage and per-user reports draw the same cells; smaller
# caches evicted them between the two and the simulator redrew them (200-team nightly: 45.7 → 36.5 CPU-s).
ORG_DAYS_CACHED = 16384
CELLS_CACHED = 262144


def seed(*parts: object) -> int:
    raw = "|".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.sha256(raw).digest()[:8], "big")


def omits_enterprise_id(org: str) -> bool:
    """Orgs whose report records carry no ``enterprise_id`` key at all (the others send null)."""
    return seed("no-enterprise-id", org.lower()) % 2 == 0


def not_ready_status(org: str, report: str, day: date) -> int:
    """204 or 404 for a day GitHub has no report for (yet) — both occur in ordinary data."""
    return 204 if seed("not-ready", org.lower(), report, day.isoformat()) % 2 == 0 else 404


def org_id(org: str) -> str:
    """Organization id as GitHub sends it in report files: a string."""
    return str(1000 + seed("org", org.lower()) % 9_000_000)


def team_id(org: str, slug: str) -> int:
    return 1 + seed("team", org.lower(), slug) % 9_000_000


def login(i: int) -> str:
    return f"dev{i:05d}"


def user_id(i: int) -> int:
    return 100000 + i


def user_kind(i: int) -> str:
    """'never' = seat never used, 'dormant' = last activity > 30 days ago, else 'regular'."""
    if i % 10 == 9:
        return "never"
    if i % 10 == 8:
        return "dormant"
    return "regular"


def user_teams(i: int) -> list[str]:
    primary = TEAMS[(i - 1) % len(TEAMS)]
    teams = [primary]
    if i % 6 == 0:
        teams.append(TEAMS[((i - 1) % len(TEAMS) + 2) % len(TEAMS)])
    if i <= 3:
        teams.append(TINY_TEAM)
    return teams


def team_members(seats: int) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {t: [] for t in (*TEAMS, TINY_TEAM)}
    for i in range(1, seats + 1):
        for t in user_teams(i):
            out[t].append(i)
    return out



@lru_cache(maxsize=ORG_DAYS_CACHED)
def active_bitmap(org: str, day: date, seats: int) -> bytes:
    """One byte per user (index i-1): 1 when user i used Copilot that day."""
    rng = random.Random(seed("active", org.lower(), day.isoformat()))
    out = bytearray(seats)
    for i in range(1, seats + 1):
        r = rng.random()
        if user_kind(i) == "regular" and r < ACTIVE_FRACTION:
            out[i - 1] = 1
    return bytes(out)
