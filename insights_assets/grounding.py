"""Grounding check: every number in an insight's text must be one of the facts.

Rules
-----
1. Numbers are extracted from headline, detail, recommendation and action labels: integers, decimals,
   thousands separators (``1,234.5``), percentages (``42%``), dollar amounts (``$1,900``). A sign is
   ignored (a fact's absolute value is allowed: "down 12.5%").
2. A number with k decimals matches a fact value v if |n − v| ≤ 0.5·10^−k (rounding tolerance); ratio
   facts also match as percentages (0.4237 ↔ 42 / 42.4 / 42.37).
3. Allowlist of constants that are definitions rather than data: the period length (``window_days``),
   the privacy threshold (5 users), the dormancy definition (30 days) and GitHub's 90-day clearing of
   last activity. Nothing else.
4. Text is not scanned inside quoted data labels (a language called "C++17" is a name, not a number),
   nor in the ISO dates of the period itself (period start and ``day``).
5. A number with a unit must match a fact of that unit (``UNIT_FACTS``): a dollar amount ("$1,900",
   "95 USD") a ``*_usd`` fact, "N minutes" a minutes fact (the PR median time to merge), "N credits" /
   "N AI credits" a credits fact. With no money fact (no seat prices), any dollar amount or "USD" fails (no
   ROI numbers without a configured price).
6. Every ``cited_numbers`` entry must equal the fact it names (with the same tolerance).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from copilot_assets.metrics import ACTIVITY_CLEARED_DAYS, DORMANT_DAYS

from .facts import MIN_GITHUB_TEAM_USERS, RATIO_FACTS, UNIT_FACTS, Facts
from .schema import InsightOutput

GITHUB_ACTIVITY_CLEARED_DAYS = ACTIVITY_CLEARED_DAYS

_NUMBER = re.compile(
    r"(?P<dollar>\$\s?)?(?<![\w.])(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?(?![\w])(?:\s?(?P<pct>%))?"
    r"(?:\s?(?P<unit>USD|dollars?|minutes?|mins?|(?:AI\s)?credits?)\b)?",
    re.IGNORECASE,
)
_UNITS = (("usd", re.compile(r"usd|dollars?", re.IGNORECASE)), ("minutes", re.compile(r"min", re.IGNORECASE)),
          ("credits", re.compile(r"(ai\s)?credit", re.IGNORECASE)))
_CURRENCY_WORD = re.compile(r"\$|\bUSD\b|\bdollars?\b", re.IGNORECASE)


@dataclass
class GroundingResult:
    passed: bool
    ungrounded: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Num:
    value: float
    decimals: int
    unit: str | None  # "usd" | "minutes" | "credits" (UNIT_FACTS), or None
    text: str

    @property
    def dollar(self) -> bool:
        return self.unit == "usd"


def _unit(dollar: str | None, word: str | None) -> str | None:
    if dollar:
        return "usd"
    if word:
        return next(name for name, pattern in _UNITS if pattern.match(word))
    return None


def extract_numbers(text: str) -> list[_Num]:
    out = []
    for m in _NUMBER.finditer(text):
        frac = m.group("frac") or ""
        value = float(m.group("int").replace(",", "") + ("." + frac if frac else ""))
        out.append(
            _Num(
                value=value,
                decimals=len(frac),
                unit=_unit(m.group("dollar"), m.group("unit")),
                text=m.group(0).strip(),
            )
        )
    return out


def _tolerance(decimals: int) -> float:
    return 0.5 * 10 ** (-decimals) + 1e-9


def _matches(value: float, decimals: int, candidates: Iterable[float]) -> bool:
    tol = _tolerance(decimals)
    return any(abs(value - c) <= tol for c in candidates)


def _decimals_of(value: float) -> int:
    text = repr(float(value))
    if "e" in text or "E" in text:
        return 6
    _whole, _, frac = text.partition(".")
    frac = frac.rstrip("0")
    return len(frac)


def constants_allowlist(facts: Facts) -> set[float]:
    return {float(facts.window_days), float(MIN_GITHUB_TEAM_USERS), float(DORMANT_DAYS),
            float(GITHUB_ACTIVITY_CLEARED_DAYS)}


def _scrub(text: str, facts: Facts) -> str:
    """Remove quoted data labels and the period's own ISO dates before number extraction."""
    for label in sorted(facts.labels.values(), key=len, reverse=True):
        if label:
            text = text.replace(label, " ")
    for d in (facts.day, facts.period_start):
        text = text.replace(d.isoformat(), " ")
    return text


def check_grounding(insight: InsightOutput, facts: Facts) -> GroundingResult:
    """Every number in the text is a fact (rules in the module docstring); cited numbers equal their fact."""
    allowed = facts.allowed_numbers() | constants_allowlist(facts)
    by_unit = {unit: [float(v) for k, v in facts.numbers.items() if k in names] for unit, names in UNIT_FACTS.items()}
    usd_values = by_unit["usd"]
    problems: list[str] = []

    texts = {
        "headline": insight.headline,
        "detail": insight.detail,
        "recommendation": insight.recommendation,
        **{f"actions[{i}].label": a.label for i, a in enumerate(insight.actions)},
    }
    for where, raw in texts.items():
        text = _scrub(raw, facts)
        if not usd_values and _CURRENCY_WORD.search(text):
            problems.append(f"{where}: money without a configured seat price")
        for num in extract_numbers(text):
            if num.unit is not None:
                if not _matches(num.value, num.decimals, by_unit[num.unit]):
                    problems.append(f"{where}: {num.text} (not a {num.unit} fact)")
            elif not _matches(num.value, num.decimals, allowed):
                problems.append(f"{where}: {num.text}")

    for cited in insight.cited_numbers:
        if cited.metric not in facts.numbers:
            problems.append(f"cited_numbers: {cited.metric} is not a fact")
            continue
        fact = float(facts.numbers[cited.metric])
        candidates = [fact, abs(fact)]
        if cited.metric in RATIO_FACTS:
            candidates.append(fact * 100.0)
        if not _matches(abs(cited.value), _decimals_of(cited.value), [abs(c) for c in candidates]):
            problems.append(f"cited_numbers: {cited.metric}={cited.value:g} but the fact is {fact:g}")

    return GroundingResult(passed=not problems, ungrounded=problems)
