"""Rule-based insight: deterministic, from the same facts, citing only facts (passes grounding).

Used when no API key is configured, the API fails after retries, or Claude's output fails validation
or grounding. Stored with ``source = "rules"``.

Finding, first that applies: idle seats (utilisation below 0.8 or any never-used / dormant seats) →
active-user trend beyond ±10 % → acceptance rate below 0.20 → steady usage. No data → "no data yet".
Then, whatever the finding, the pull-request and agent facts when present (PRs merged of created, median
minutes to merge, PRs Copilot created, agent adoption, code review), and the AI-credit budget.
"""

from __future__ import annotations

from .facts import Facts
from .schema import DETAIL_MAX, Action, CitedNumber, InsightOutput

SEAT_UTILISATION_LOW = 0.8
TREND_NOTABLE_PCT = 10.0
ACCEPTANCE_LOW = 0.20


def _fmt(value: float | int) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{float(value):,}"


def _pct(ratio: float) -> str:
    return f"{ratio * 100:.1f}%"


class _Writer:
    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.cited: dict[str, float] = {}

    def n(self, name: str) -> str:
        value = self.facts.numbers[name]
        self.cited[name] = float(value)
        return _fmt(abs(value)) if name == "active_users_trend_pct" else _fmt(value)

    def p(self, name: str) -> str:
        value = self.facts.numbers[name]
        self.cited[name] = float(value)
        return _pct(float(value))

    def has(self, *names: str) -> bool:
        return all(name in self.facts.numbers for name in names)


def rule_insight(facts: Facts) -> InsightOutput:
    w = _Writer(facts)
    num = facts.numbers
    sentences: list[str] = []
    actions: list[Action] = []

    has_usage = num.get("days_with_data", 0) > 0
    has_seats = num.get("seats_total", 0) > 0
    idle_seats = has_seats and (
        num.get("seat_utilisation", 1.0) < SEAT_UTILISATION_LOW
        or num.get("seats_never_used", 0) > 0
        or num.get("seats_dormant_30d", 0) > 0
    )
    trend = num.get("active_users_trend_pct")

    if not has_usage and not has_seats:
        headline = "No Copilot usage data is available for this period yet"
        sentences.append(
            f"GitHub delivered no usage report for the last {w.n('window_days')} days and no seat snapshot."
        )
        recommendation = "Check that the GitHub connection is active and that the organisation uses Copilot."
        actions.append(Action(label="Check the data coverage", metric="days_with_data"))
    elif idle_seats:
        headline = "Part of the Copilot seats are not in active use"
        sentence = f"Seat utilisation is {w.p('seat_utilisation')}" if w.has("seat_utilisation") else "Seats"
        sentence += f" with {w.n('seats_active')} of {w.n('seats_total')} seats active"
        sentence += (
            f"; {w.n('seats_never_used')} seats were never used and {w.n('seats_dormant_30d')} have been "
            "idle for more than 30 days."
        )
        sentences.append(sentence)
        if w.has("unused_seat_cost_usd_month"):
            sentences.append(f"Never-used and dormant seats cost ${w.n('unused_seat_cost_usd_month')} per month.")
        recommendation = "Review the never-used and dormant seats with team leads and reassign or release them."
        actions.append(Action(label="Review never-used seats", metric="seats_never_used"))
        actions.append(Action(label="Review dormant seats", metric="seats_dormant_30d"))
    elif trend is not None and abs(trend) >= TREND_NOTABLE_PCT:
        direction = "rose" if trend > 0 else "fell"
        headline = f"Copilot daily active users {direction} against the previous period"
        sentences.append(
            f"Daily active users averaged {w.n('active_users_avg')}, against {w.n('active_users_prev_avg')} "
            f"in the previous period ({direction} by {w.n('active_users_trend_pct')}%)."
        )
        recommendation = (
            "Share what drove the increase with other teams."
            if trend > 0
            else "Ask team leads what changed and whether developers need help getting value from Copilot."
        )
        actions.append(Action(label="Look at the active-user trend", metric="active_users_trend_pct"))
    elif w.has("acceptance_rate") and num["acceptance_rate"] < ACCEPTANCE_LOW:
        headline = "Few Copilot code suggestions are being accepted"
        sentences.append(
            f"The acceptance rate is {w.p('acceptance_rate')}: {w.n('code_acceptances')} of "
            f"{w.n('code_generations')} suggestions were accepted."
        )
        recommendation = "Offer a short Copilot enablement session focused on the team's main languages."
        actions.append(Action(label="Look at the acceptance rate", metric="acceptance_rate"))
    else:
        headline = "Copilot usage is steady this period"
        if w.has("active_users_avg"):
            sentences.append(f"Daily active users averaged {w.n('active_users_avg')}.")
        if w.has("acceptance_rate"):
            sentences.append(f"The acceptance rate is {w.p('acceptance_rate')}.")
        recommendation = "Keep monitoring; no action is needed this period."
        actions.append(Action(label="Look at active users", metric="active_users_avg")
                       if w.has("active_users_avg") else Action(label="Check coverage", metric="days_with_data"))

    if has_usage and w.has("lines_accepted") and num["lines_accepted"] > 0:
        sentences.append(f"Accepted suggestions added {w.n('lines_accepted')} lines of code.")
    sentences += _activity_sentences(w, actions)
    if "top_language_1" in facts.labels:
        sentences.append(f'Most accepted suggestions were in "{facts.labels["top_language_1"]}".')
    if has_usage and num["days_with_data"] < num["window_days"]:
        sentences.append(
            f"Coverage is partial: {w.n('days_with_data')} of {w.n('window_days')} days have data."
        )
        if len(actions) < 3:
            actions.append(Action(label="Check the data coverage", metric="days_with_data"))
    if has_usage and w.has("github_teams_below_threshold") and num["github_teams_below_threshold"] > 0:
        sentences.append(
            f"GitHub teams below the 5-user threshold (not shown individually): "
            f"{w.n('github_teams_below_threshold')}."
        )

    return InsightOutput(
        headline=headline,
        detail=_fit(sentences),
        recommendation=recommendation,
        actions=actions[:3],
        cited_numbers=[CitedNumber(metric=k, value=v) for k, v in w.cited.items()],
    )


def _fit(sentences: list[str]) -> str:
    """The sentences, in order of importance, as long as they fit the detail's length limit."""
    out = ""
    for sentence in sentences:
        if len(out) + 1 + len(sentence) > DETAIL_MAX:
            break
        out = f"{out} {sentence}" if out else sentence
    return out


def _activity_sentences(w: _Writer, actions: list[Action]) -> list[str]:
    """Pull requests, agents, code review and the AI-credit budget, each only when its facts are present."""
    out: list[str] = []
    if w.has("prs_merged", "prs_created"):
        text = f"{w.n('prs_merged')} of {w.n('prs_created')} pull requests were merged"
        if w.has("pr_median_minutes_to_merge"):
            text += f", with a median of {w.n('pr_median_minutes_to_merge')} minutes to merge"
        if w.has("prs_created_by_copilot") and w.facts.numbers["prs_created_by_copilot"] > 0:
            text += f"; Copilot created {w.n('prs_created_by_copilot')} of them"
        out.append(text + ".")
        if len(actions) < 3:
            actions.append(Action(label="Look at pull-request throughput", metric="prs_merged"))
    if w.has("agent_users_distinct", "agent_adoption_rate") and w.facts.numbers["agent_users_distinct"] > 0:
        out.append(f"Users of a Copilot agent: {w.n('agent_users_distinct')} "
                   f"({w.p('agent_adoption_rate')} of those with Copilot activity).")
    if w.has("code_review_users_distinct") and w.facts.numbers["code_review_users_distinct"] > 0:
        out.append(f"Users who asked Copilot for a code review: {w.n('code_review_users_distinct')}.")
    if w.has("ai_credit_budget_used", "ai_credits_month_to_date", "ai_credit_budget"):
        over = " — over budget" if w.facts.numbers["ai_credit_budget_used"] > 1 else ""
        out.append(f"This month {w.n('ai_credits_month_to_date')} AI credits of a budget of "
                   f"{w.n('ai_credit_budget')} are used ({w.p('ai_credit_budget_used')}{over}).")
    return out


def status_rule_insight(facts: Facts, status: str, reason: str | None) -> InsightOutput:
    """A team whose Copilot integration is not connected (GitHub refused the token or the reports): say so
    and where the fix is, citing only what was synced (usually nothing)."""
    w = _Writer(facts)
    why = f' ("{reason}")' if reason else ""
    sentences = [f'GitHub did not serve this team\'s Copilot usage reports: the integration is "{status}"{why}.']
    if facts.numbers.get("days_with_data", 0) > 0:
        sentences.append(f"{w.n('days_with_data')} of the last {w.n('window_days')} days have data.")
    else:
        sentences.append("No Copilot usage was synced, so this insight has no usage numbers.")
    return InsightOutput(
        headline="Copilot usage data is not available for this team yet",
        detail=" ".join(sentences),
        recommendation="Follow the remediation hint of `copilot-flow teams status` for this team; the "
        "insight is regenerated from real numbers after the first successful sync.",
        actions=[Action(label="Check the data coverage", metric="days_with_data")],
        cited_numbers=[CitedNumber(metric=k, value=v) for k, v in w.cited.items()],
    )
