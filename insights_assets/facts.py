"""Facts first: every number an insight may mention, computed here in pandas with ONE definition each.

The model only explains these numbers; it never computes. ``Facts.numbers`` holds named numbers,
``Facts.labels`` holds quoted, length-limited data strings (language / editor / model / GitHub team
names). No login or any other per-person string ever enters a ``Facts`` object.

Definitions (window W = ``window_days`` days ending at ``day`` inclusive; previous period = the W days
before it):

==============================  ==========================================================================
``window_days``                 W
``days_with_data``              days of W with a ``copilot_usage_daily`` row ("coverage 26/28")
``active_users_avg``            mean ``daily_active_users`` over the days of W that have a value (1 dp)
``active_users_prev_avg``       the same over the previous period (1 dp)
``active_users_trend_pct``      (avg − prev_avg) / prev_avg × 100 (1 dp); absent when prev_avg is 0/missing
``active_users_distinct``       distinct users with any activity in W (``copilot_user_daily``)
``code_generations``            Σ ``code_generation_activity_count`` over W
``code_acceptances``            Σ ``code_acceptance_activity_count`` over W
``acceptance_rate``             ``copilot_assets.metrics.acceptance_rate(generations, acceptances)`` (ratio)
``lines_accepted``              Σ ``loc_added_sum`` over W
``seats_total`` …               latest seat snapshot on or before ``day``: total / active / never used /
                                dormant (> 30 days idle)
``seat_utilisation``            seats_active / seats_total (ratio)
``top_<kind>_<i>_acceptances``  Σ ``code_acceptance_activity_count`` over W for the i-th language /
                                editor / model, ranked by that sum (name in ``labels["top_<kind>_<i>"]``)
``github_teams_total``          distinct GitHub teams with a row in W
``github_teams_below_threshold`` GitHub teams whose latest row in W is below the 5-user threshold
``prs_created`` …               Σ over W of ``copilot_pull_request_daily`` ``total_created`` (``prs_reviewed``,
                                ``prs_merged``, ``prs_created_by_copilot``, ``prs_reviewed_by_copilot``:
                                the same for ``total_reviewed`` …); absent when GitHub gave no value in W
``pr_median_minutes_to_merge``  median of GitHub's daily ``median_minutes_to_merge`` over the days of W that
                                have one (1 dp; medians are never summed or averaged)
``pr_copilot_suggestions``      Σ ``total_copilot_suggestions`` over W; ``pr_copilot_suggestions_applied``:
                                Σ ``total_copilot_applied_suggestions``
``pr_copilot_suggestion_applied_rate``  applied / suggestions (ratio)
``agent_users_distinct``        distinct users in W with ``used_agent`` or ``used_copilot_cloud_agent``
``agent_adoption_rate``         agent_users_distinct / distinct users with a per-user row in W (ratio)
``cloud_agent_users_distinct``  distinct users in W with ``used_copilot_cloud_agent`` (absent when never reported)
``code_review_users_distinct``  distinct users in W with ``used_copilot_code_review_active`` (same)
``cli_users_distinct``          distinct users in W with ``used_cli``
``ai_credits_used``             Σ ``ai_credits_used`` over the users and days of W (absent when never reported)
``ai_credits_month_to_date``    Σ ``ai_credits_used`` from the first of ``day``'s month to ``day``
``ai_credit_budget``            the team's monthly AI-credit budget (only when set); ``ai_credit_budget_used``:
                                month to date / budget (ratio)
``seat_cost_usd_month``         Σ over the plans of the latest snapshot of seats × the plan's monthly price
``unused_seat_cost_usd_month``  Σ (never used + dormant) × the plan's monthly price; ``seat_price_usd``: the
                                monthly price when every seat has the same one (all three: only when every
                                plan with seats has a price)
==============================  ==========================================================================

The facts of the 2026 fields and of seat money are computed in insights_assets/activity_facts.py.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported where frames are built: the sync steps never pay for it
    import pandas as pd

from copilot_assets.metrics import GITHUB_TEAM_MIN_USERS, RATIO_DISPLAY_DIGITS, WINDOW_DAYS, acceptance_rate
from insights_assets import activity_facts

MIN_GITHUB_TEAM_USERS = GITHUB_TEAM_MIN_USERS
"""GitHub teams with fewer users are never described individually (privacy threshold)."""

LABEL_MAX_CHARS = 40
TOP_N = 3
BREAKDOWN_KINDS = ("language", "editor", "model")

RATIO_FACTS = frozenset({"acceptance_rate", "seat_utilisation", *activity_facts.RATIO_FACTS})
"""Facts stored as a 0–1 ratio; a text may render them as percentages (0.42 → 42 %)."""

USD_FACTS = activity_facts.USD_FACTS
MINUTE_FACTS = activity_facts.MINUTE_FACTS
CREDIT_FACTS = activity_facts.CREDIT_FACTS
UNIT_FACTS = {"usd": USD_FACTS, "minutes": MINUTE_FACTS, "credits": CREDIT_FACTS}
"""Facts with a unit: a number written with that unit ($, minutes, credits) must be one of them."""

NUMBER_FACT_NAMES: tuple[str, ...] = (
    "window_days",
    "days_with_data",
    "active_users_avg",
    "active_users_prev_avg",
    "active_users_trend_pct",
    "active_users_distinct",
    "code_generations",
    "code_acceptances",
    "acceptance_rate",
    "lines_accepted",
    "seats_total",
    "seats_active",
    "seats_never_used",
    "seats_dormant_30d",
    "seat_utilisation",
    *(f"top_{kind}_{i}_acceptances" for kind in BREAKDOWN_KINDS for i in range(1, TOP_N + 1)),
    "github_teams_total",
    "github_teams_below_threshold",
    *activity_facts.FACT_NAMES,
)
"""Every numeric fact name that can exist (a given team-day has a subset)."""

LABEL_FACT_NAMES: tuple[str, ...] = (
    *(f"top_{kind}_{i}" for kind in BREAKDOWN_KINDS for i in range(1, TOP_N + 1)),
    *(f"top_github_team_{i}" for i in range(1, TOP_N + 1)),
)
"""Every label (quoted data string) name that can exist."""

_WHITESPACE_CONTROL = re.compile(r"[\t\n\r\x0b\x0c\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def quote_label(value: Any, max_chars: int = LABEL_MAX_CHARS) -> str:
    """A data string made safe to show to a model: control/format characters stripped, whitespace
    collapsed, at most ``max_chars`` characters (an ellipsis marks a cut). Never an instruction."""
    text = unicodedata.normalize("NFKC", "" if value is None else str(value))
    text = _CONTROL.sub("", _WHITESPACE_CONTROL.sub(" ", text))
    text = " ".join(text.split())
    if len(text) > max_chars:
        text = text[: max_chars - 1].rstrip() + "…"
    return text


@dataclass(frozen=True)
class Facts:
    """The facts of one team-day. ``numbers`` and ``labels`` are the only things a text may cite."""

    team_id: int
    day: date
    window_days: int
    numbers: dict[str, float | int]
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def period_start(self) -> date:
        return self.day - timedelta(days=self.window_days - 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "team_id": self.team_id,
            "day": self.day.isoformat(),
            "period_start": self.period_start.isoformat(),
            "window_days": self.window_days,
            "numbers": dict(sorted(self.numbers.items())),
            "labels": dict(sorted(self.labels.items())),
        }

    def to_json(self) -> str:
        """Deterministic JSON (sorted keys). ``<``/``>`` are escaped so a label can never close a
        delimited prompt section; the result is still plain JSON."""
        text = json.dumps(self.as_dict(), sort_keys=True, ensure_ascii=False)
        return text.replace("<", "\\u003c").replace(">", "\\u003e")

    @classmethod
    def from_json(cls, text: str) -> Facts:
        raw = json.loads(text)
        return cls(
            team_id=int(raw["team_id"]),
            day=date.fromisoformat(raw["day"]),
            window_days=int(raw["window_days"]),
            numbers=dict(raw["numbers"]),
            labels=dict(raw["labels"]),
        )

    def allowed_numbers(self) -> set[float]:
        """Numbers a text may cite: each fact, its absolute value, ratio facts as percentages, and
        rounding variants (0, 1 and 2 decimals). Grounding also applies a rounding tolerance."""
        out: set[float] = set()
        for name, value in self.numbers.items():
            bases = [float(value), abs(float(value))]
            if name in RATIO_FACTS:
                bases += [abs(float(value)) * 100.0]
            for base in bases:
                out.add(base)
                for digits in (0, 1, 2):
                    out.add(round(base, digits))
        return out


# --------------------------------------------------------------------------- helpers
def _as_day(series: pd.Series) -> pd.Series:
    import pandas as pd

    return pd.to_datetime(series).dt.date


def _window(df: pd.DataFrame | None, start: date, end: date) -> pd.DataFrame:
    import pandas as pd

    if df is None or len(df) == 0:
        return pd.DataFrame()
    out = df.copy()
    out["day"] = _as_day(out["day"])
    return out[(out["day"] >= start) & (out["day"] <= end)]


def _int(value: Any) -> int:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0
    return int(value)


def _mean_1dp(series: pd.Series) -> float | None:
    import pandas as pd

    values = pd.to_numeric(series, errors="coerce").dropna()
    if values.empty:
        return None
    return round(float(values.mean()), 1)


def _top(df: pd.DataFrame, key: str) -> list[tuple[str, int]]:
    if df.empty or key not in df.columns:
        return []
    sums = (
        df.groupby(key, sort=False)["code_acceptance_activity_count"].sum().reset_index()
        .sort_values(["code_acceptance_activity_count", key], ascending=[False, True])
    )
    return [(str(r[key]), int(r["code_acceptance_activity_count"])) for _, r in sums.head(TOP_N).iterrows()]


# --------------------------------------------------------------------------- the one computation
def compute_facts(
    usage: pd.DataFrame | None,
    languages: pd.DataFrame | None,
    editors: pd.DataFrame | None,
    models: pd.DataFrame | None,
    github_teams: pd.DataFrame | None,
    seats: dict[str, Any] | None,
    *,
    day: date,
    window_days: int = WINDOW_DAYS,
    team_id: int = 0,
    users: pd.DataFrame | None = None,
    pull_requests: pd.DataFrame | None = None,
    seat_plans: list[dict[str, Any]] | None = None,
    credits_month_to_date: float | None = None,
    credit_budget: float | None = None,
) -> Facts:
    """Compute the facts of one team-day from table-shaped frames (columns = table columns).

    ``usage`` may cover up to 2 × ``window_days`` days ending at ``day`` (for the trend); the
    breakdown frames are cut to the window here. ``users`` (optional) needs ``user_id``, the counter
    columns and the ``used_*`` / ``ai_credits_used`` columns only; logins are never read. ``seat_plans``: the
    copilot_seat_plan_daily rows of the latest snapshot (``seats``).
    """
    if window_days < 1:
        raise ValueError("window_days must be >= 1")
    start = day - timedelta(days=window_days - 1)
    prev_end = start - timedelta(days=1)
    prev_start = prev_end - timedelta(days=window_days - 1)
    numbers: dict[str, float | int] = {"window_days": int(window_days)}
    labels: dict[str, str] = {}

    cur = _window(usage, start, day)
    prev = _window(usage, prev_start, prev_end)
    numbers["days_with_data"] = int(cur["day"].nunique()) if not cur.empty else 0

    if not cur.empty:
        avg = _mean_1dp(cur["daily_active_users"])
        if avg is not None:
            numbers["active_users_avg"] = avg
        prev_avg = _mean_1dp(prev["daily_active_users"]) if not prev.empty else None
        if prev_avg is not None:
            numbers["active_users_prev_avg"] = prev_avg
            if avg is not None and prev_avg > 0:
                numbers["active_users_trend_pct"] = round((avg - prev_avg) / prev_avg * 100.0, 1)
        generations = _int(cur["code_generation_activity_count"].sum())
        acceptances = _int(cur["code_acceptance_activity_count"].sum())
        numbers["code_generations"] = generations
        numbers["code_acceptances"] = acceptances
        rate = acceptance_rate(generations, acceptances)
        if rate is not None:
            numbers["acceptance_rate"] = round(float(rate), RATIO_DISPLAY_DIGITS)
        numbers["lines_accepted"] = _int(cur["loc_added_sum"].sum())

    user_rows = _window(users, start, day)
    if not user_rows.empty:
        activity = (
            user_rows["user_initiated_interaction_count"].fillna(0)
            + user_rows["code_generation_activity_count"].fillna(0)
        )
        numbers["active_users_distinct"] = int(user_rows.loc[activity > 0, "user_id"].nunique())

    for kind, frame in zip(BREAKDOWN_KINDS, (languages, editors, models), strict=True):
        for i, (name, accepted) in enumerate(_top(_window(frame, start, day), kind), start=1):
            labels[f"top_{kind}_{i}"] = quote_label(name)
            numbers[f"top_{kind}_{i}_acceptances"] = accepted

    gh = _window(github_teams, start, day)
    if not gh.empty:
        latest = gh.sort_values("day").groupby("github_team_id").tail(1)
        small = latest["below_threshold"].astype(bool) | (latest["active_users"] < MIN_GITHUB_TEAM_USERS)
        numbers["github_teams_total"] = int(latest["github_team_id"].nunique())
        numbers["github_teams_below_threshold"] = int(small.sum())
        eligible = gh[gh["github_team_id"].isin(latest.loc[~small, "github_team_id"])]
        ranked = _top(eligible, "github_team_slug")
        for i, (slug, _accepted) in enumerate(ranked, start=1):
            labels[f"top_github_team_{i}"] = quote_label(slug)

    if seats:
        total = _int(seats.get("total_seats"))
        active = _int(seats.get("active_seats"))
        numbers["seats_total"] = total
        numbers["seats_active"] = active
        numbers["seats_never_used"] = _int(seats.get("never_used"))
        numbers["seats_dormant_30d"] = _int(seats.get("dormant_30d"))
        if total > 0:
            numbers["seat_utilisation"] = round(active / total, RATIO_DISPLAY_DIGITS)
        numbers.update(activity_facts.seat_money_facts(seat_plans))
    numbers.update(activity_facts.pull_request_facts(_window(pull_requests, start, day)))
    numbers.update(activity_facts.user_facts(user_rows))
    numbers.update(activity_facts.credit_budget_facts(credits_month_to_date, credit_budget))

    unknown = set(numbers) - set(NUMBER_FACT_NAMES)
    assert not unknown, f"undeclared facts: {unknown}"
    return Facts(team_id=int(team_id), day=day, window_days=int(window_days), numbers=numbers, labels=labels)
