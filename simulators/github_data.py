"""Deterministic synthetic GitHub Copilot data for the simulator.

Everything is a pure function of (org, day, seats[, today]) seeded with sha256 (never Python's hash()), so two
processes produce the same bytes. Users are ``dev00001``… with ``user_id = 100000 + i``; the same logins
exist in every org on purpose (isolation tests use two orgs with shared members). Orgs, users and teams
(ids, kinds, membership): simulators/github_org.py, whose names are importable from here too.

Hierarchy (consistent by construction):
  per-user day "cells" (language × model × feature counters)
    → per-user row (users-1-day) with all breakdowns grouped from the cells
    → org 1-day aggregate (counter sums; DAU = distinct active users; WAU/MAU over trailing 7/28 days)
    → 28-day report (day_totals[] of the 1-day objects).

Fields GitHub documents as omittable (its usage-metrics field reference) are omitted in part of the data:
``enterprise_id`` is absent (not null) for some orgs (``omits_enterprise_id``); on about one day in 11 exactly
one users-1-day record (and the same user-day in users-28-day) has no ``user_login`` (``user_without_login``);
a breakdown array is absent from a record with no activity of that kind (e.g. ``totals_by_ide`` of a
CLI-only user-day). Sums still match: the org aggregate is built from the same cells.

The 2026 fields (pull requests, cloud agent, code review, CLI and app activity, third-party agents, AI credits,
adoption phase) come from simulators/github_activity.py, seeded apart so the data above never changes; seats
and billing from simulators/github_seats.py (both re-exported here where tests read them).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import orjson

from simulators import github_activity as activity
from simulators.github_org import (  # IDES is bound here: a test patches github_data.IDES
    CELLS_CACHED,
    IDES,
    MIN_TEAM_SEATS,
    ORG_DAYS_CACHED,
    active_bitmap,
    login,
    omits_enterprise_id,
    org_id,
    seed,
    team_id,
    team_members,
    user_id,
    user_teams,
)

# re-exported for the importers of github_data (the simulator, tests)
from simulators.github_org import TEAMS as TEAMS
from simulators.github_org import TINY_TEAM as TINY_TEAM
from simulators.github_org import not_ready_status as not_ready_status
from simulators.github_seats import billing as billing
from simulators.github_seats import last_activity_day as last_activity_day
from simulators.github_seats import plan_type as plan_type
from simulators.github_seats import seat as seat
from simulators.github_seats import seats_page as seats_page

LANGUAGES = ("python", "typescript", "go", "java", "rust", "unknown")
MODELS = ("gpt-4.1", "claude-sonnet-4.5", "auto")
FEATURES = (
    "code_completion",
    "chat_panel_ask_mode",
    "chat_panel_agent_mode",
    "chat_inline",
    "agent_edit",
    "copilot_cli",
)
AGENT_FEATURES = {"chat_panel_agent_mode", "agent_edit"}
CODE_COUNTERS = (
    "code_generation_activity_count",
    "code_acceptance_activity_count",
    "loc_suggested_to_add_sum",
    "loc_suggested_to_delete_sum",
    "loc_added_sum",
    "loc_deleted_sum",
)


@lru_cache(maxsize=CELLS_CACHED)
def _cells(org: str, day: date, i: int) -> list[tuple[str, str, str, dict[str, int]]]:
    """Activity cells (language, model, feature, counters) of user i on day (user assumed active). Cached: the
    org report and the per-user reports of a day draw the same cells; callers only read them."""
    rng = random.Random(seed("cells", org.lower(), day.isoformat(), i))
    n = 1 + (rng.random() < 0.5)
    cells = []
    used: set[tuple[str, str, str]] = set()
    for _ in range(n):
        key = (rng.choice(LANGUAGES), rng.choice(MODELS), rng.choice(FEATURES))
        if key in used:
            continue
        used.add(key)
        gen = rng.randint(1, 40)
        acc = rng.randint(0, gen)
        sug_add = gen * rng.randint(1, 6)
        sug_del = rng.randint(0, gen)
        counters = {
            "user_initiated_interaction_count": rng.randint(0, 15),
            "code_generation_activity_count": gen,
            "code_acceptance_activity_count": acc,
            "loc_suggested_to_add_sum": sug_add,
            "loc_suggested_to_delete_sum": sug_del,
            "loc_added_sum": rng.randint(0, sug_add),
            "loc_deleted_sum": rng.randint(0, sug_del),
        }
        cells.append((key[0], key[1], key[2], counters))
    return cells


def _zero(with_interactions: bool = True) -> dict[str, int]:
    d = dict.fromkeys(CODE_COUNTERS, 0)
    if with_interactions:
        d = {"user_initiated_interaction_count": 0, **d}
    return d


def _add(into: dict[str, int], counters: dict[str, int]) -> None:
    for k in into:
        into[k] += counters.get(k, 0)


def _breakdowns(cells_with_ide: list[tuple[str, str, str, str, dict[str, int]]]) -> dict[str, Any]:
    """Top-level counters and totals_by_* from (ide, language, model, feature, counters) cells."""
    top = _zero()
    by_ide: dict[str, dict[str, int]] = {}
    by_feature: dict[str, dict[str, int]] = {}
    by_lang_feature: dict[tuple[str, str], dict[str, int]] = {}
    by_lang_model: dict[tuple[str, str], dict[str, int]] = {}
    by_model_feature: dict[tuple[str, str], dict[str, int]] = {}
    ask = agent = 0
    for ide, lang, model, feature, c in cells_with_ide:
        _add(top, c)
        if feature != "copilot_cli":  # CLI is not in totals_by_ide (2026-04-10 semantics)
            _add(by_ide.setdefault(ide, _zero()), c)
        _add(by_feature.setdefault(feature, _zero()), c)
        _add(by_lang_feature.setdefault((lang, feature), _zero(False)), c)
        _add(by_lang_model.setdefault((lang, model), _zero(False)), c)
        _add(by_model_feature.setdefault((model, feature), _zero()), c)
        if feature == "chat_panel_ask_mode":
            ask += c["user_initiated_interaction_count"]
        elif feature == "chat_panel_agent_mode":
            agent += c["user_initiated_interaction_count"]
    arrays = {
        "totals_by_ide": [{"ide": k, **v} for k, v in sorted(by_ide.items())],
        "totals_by_feature": [{"feature": k, **v} for k, v in sorted(by_feature.items())],
        "totals_by_language_feature": [
            {"language": k[0], "feature": k[1], **v} for k, v in sorted(by_lang_feature.items())
        ],
        "totals_by_language_model": [{"language": k[0], "model": k[1], **v} for k, v in sorted(by_lang_model.items())],
        "totals_by_model_feature": [{"model": k[0], "feature": k[1], **v} for k, v in sorted(by_model_feature.items())],
    }
    return {
        "user_initiated_interaction_count": top["user_initiated_interaction_count"],
        "chat_panel_agent_mode": agent,
        "chat_panel_ask_mode": ask,
        **{k: top[k] for k in CODE_COUNTERS},
        # no activity of that kind → the array is absent, not empty (GitHub's usage-metrics file formats)
        **{k: v for k, v in arrays.items() if v},
    }


def _user_cells(org: str, day: date, i: int) -> list[tuple[str, str, str, str, dict[str, int]]]:
    ide = IDES[i % len(IDES)]
    return [(ide, lang, model, feat, c) for lang, model, feat, c in _cells(org, day, i)]


def user_day_row(org: str, day: date, i: int) -> dict[str, Any]:
    cells = _user_cells(org, day, i)
    feats = {c[3] for c in cells}
    row: dict[str, Any] = {
        "user_id": user_id(i),
        "user_login": login(i),
        "day": day.isoformat(),
        "organization_id": org_id(org),
        **_enterprise_id(org),
        **_breakdowns(cells),
        "used_agent": bool(feats & AGENT_FEATURES),
        "used_chat": bool(feats & {"chat_panel_ask_mode", "chat_panel_agent_mode", "chat_inline"}),
        "used_cli": "copilot_cli" in feats,
    }
    row.update(activity.user_fields(org, day, i, row["used_cli"], row["used_agent"],
                                    row["code_acceptance_activity_count"]))
    ide = IDES[i % len(IDES)]
    for entry in row.get("totals_by_ide", []):
        entry["last_known_ide_version"] = {
            "ide_version": f"{ide}/1.{90 + i % 10}.0",
            "sampled_at": f"{day.isoformat()}T12:00:00Z",
        }
    return row


def _enterprise_id(org: str) -> dict[str, Any]:
    return {} if omits_enterprise_id(org) else {"enterprise_id": None}


@lru_cache(maxsize=ORG_DAYS_CACHED)
def user_without_login(org: str, day: date, seats: int) -> int | None:
    """The ``user_id`` whose users-1-day (and users-28-day) record of that day has no ``user_login``
    (it keeps ``user_id``), on about one day in 11; None on the other days."""
    if seed("no-login-day", org.lower(), day.isoformat()) % 11:
        return None
    active = [i for i, b in enumerate(active_bitmap(org, day, seats), 1) if b]
    if not active:
        return None
    return user_id(active[seed("no-login-user", org.lower(), day.isoformat()) % len(active)])


def active_users(org: str, day: date, seats: int) -> Iterator[int]:
    bm = active_bitmap(org, day, seats)
    return (i + 1 for i, b in enumerate(bm) if b)


@lru_cache(maxsize=ORG_DAYS_CACHED)
def _active_tuple(org: str, day: date, seats: int) -> tuple[int, ...]:
    return tuple(active_users(org, day, seats))


def user_range(seats: int, shard: int, shards: int) -> range:
    """Contiguous user indices (1-based) of one shard; concatenating shards gives the 1-shard order."""
    lo = seats * shard // shards
    hi = seats * (shard + 1) // shards
    return range(lo + 1, hi + 1)


def users_1_day_rows(org: str, day: date, seats: int, shard: int = 0, shards: int = 1) -> Iterator[dict]:
    bm = active_bitmap(org, day, seats)
    no_login = user_without_login(org, day, seats)
    for i in user_range(seats, shard, shards):
        if bm[i - 1]:
            row = user_day_row(org, day, i)
            if row["user_id"] == no_login:
                del row["user_login"]
            yield row


def users_28_day_rows(org: str, start: date, end: date, seats: int, shard: int = 0, shards: int = 1) -> Iterator[dict]:
    d = start
    while d <= end:
        for row in users_1_day_rows(org, d, seats, shard, shards):
            row["report_start_day"] = start.isoformat()
            row["report_end_day"] = end.isoformat()
            yield row
        d += timedelta(days=1)


def user_teams_rows(org: str, day: date, seats: int, shard: int = 0, shards: int = 1) -> Iterator[dict]:
    members = team_members(seats)
    big = {t for t, m in members.items() if len(m) >= MIN_TEAM_SEATS}
    oid = org_id(org)
    for i in user_range(seats, shard, shards):
        for t in user_teams(i):
            if t in big:
                yield {
                    "user_id": user_id(i),
                    "user_login": login(i),
                    "day": day.isoformat(),
                    "organization_id": oid,
                    "team_id": team_id(org, t),
                    "slug": t,
                }


def _distinct_active(org: str, end: date, days: int, seats: int) -> int:
    acc = 0
    for k in range(days):
        acc |= int.from_bytes(active_bitmap(org, end - timedelta(days=k), seats), "big")
    return acc.bit_count()  # one bit per user byte (bytes are 0/1)


@lru_cache(maxsize=ORG_DAYS_CACHED)
def _org_day_cached(org: str, day: date, seats: int) -> dict[str, Any]:
    cells: list[tuple[str, str, str, str, dict[str, int]]] = []
    users: list[tuple[int, bool, bool, int]] = []  # (i, used CLI, used an agent, acceptances): the 2026 fields
    for i in active_users(org, day, seats):
        mine = _user_cells(org, day, i)
        cells.extend(mine)
        feats = {c[3] for c in mine}
        users.append((i, "copilot_cli" in feats, bool(feats & AGENT_FEATURES),
                      sum(c[4]["code_acceptance_activity_count"] for c in mine)))
    dau = len(users)
    obj: dict[str, Any] = {
        "day": day.isoformat(),
        "organization_id": org_id(org),
        **_enterprise_id(org),
        "daily_active_users": dau,
        "weekly_active_users": _distinct_active(org, day, 7, seats),
        "monthly_active_users": _distinct_active(org, day, 28, seats),
        **_breakdowns(cells),
        **activity.org_fields(org, day, seats, users, lambda d: _active_tuple(org, d, seats)),
        # internal keys GitHub's own example files carry; clients must keep/ignore them, never fail
        "etl_id": f"sim-{seed('etl', org.lower(), day.isoformat()) % 10**8:08d}",
        "day_partition": day.isoformat(),
    }
    return obj


def org_day(org: str, day: date, seats: int) -> dict[str, Any]:
    """The organization-1-day object (a fresh copy: a JSON round trip, several times faster than deepcopy)."""
    return orjson.loads(orjson.dumps(_org_day_cached(org, day, seats)))


def org_28_day(org: str, start: date, end: date, seats: int) -> dict[str, Any]:
    totals = []
    d = start
    while d <= end:
        totals.append(org_day(org, d, seats))
        d += timedelta(days=1)
    return {
        "report_start_day": start.isoformat(),
        "report_end_day": end.isoformat(),
        "organization_id": org_id(org),
        "created_at": f"{(end + timedelta(days=1)).isoformat()}T03:00:00Z",
        "day_totals": totals,
    }
