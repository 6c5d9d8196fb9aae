"""The insight's output contract: a JSON schema for Claude's structured output + a pydantic model.

``insight_json_schema(facts)`` is the schema of one team-day: its metric enums offer only the fact names
present in that team-day's facts (a day without a seat snapshot offers no seat fact, so an answer can never
cite one and be rejected for it). ``INSIGHT_JSON_SCHEMA`` is the same shape over every fact name that can
exist. Both use only the subset structured outputs accept (type, properties, required, items, enum,
additionalProperties: false). Lengths and counts are enforced after parsing, here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .facts import LABEL_FACT_NAMES, NUMBER_FACT_NAMES, Facts

HEADLINE_MAX = 160
DETAIL_MAX = 800
RECOMMENDATION_MAX = 400
ACTION_LABEL_MAX = 80
MAX_ACTIONS = 3
MAX_CITED = 24  # every number an insight writes is cited: room for the PR, agent, credit and cost facts


class Action(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=3, max_length=ACTION_LABEL_MAX)
    metric: str = Field(min_length=1, max_length=64)


class CitedNumber(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: str = Field(min_length=1, max_length=64)
    value: float


class InsightOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    headline: str = Field(min_length=5, max_length=HEADLINE_MAX)
    detail: str = Field(min_length=10, max_length=DETAIL_MAX)
    recommendation: str = Field(min_length=5, max_length=RECOMMENDATION_MAX)
    actions: list[Action] = Field(min_length=1, max_length=MAX_ACTIONS)
    cited_numbers: list[CitedNumber] = Field(default_factory=list, max_length=MAX_CITED)

    @field_validator("headline", "detail", "recommendation")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("empty text")
        return value


class MetricReferenceError(ValueError):
    """An action or cited number names something that is not a fact of this team-day."""


def validate_metric_references(insight: InsightOutput, facts: Facts) -> None:
    """Post-parse check: actions name a present fact (number or label); cited numbers a numeric fact."""
    bad = [a.metric for a in insight.actions if a.metric not in facts.numbers and a.metric not in facts.labels]
    bad += [c.metric for c in insight.cited_numbers if c.metric not in facts.numbers]
    if bad:
        raise MetricReferenceError(f"unknown metric reference(s): {sorted(set(bad))}")


def parse_insight(text: str, facts: Facts) -> InsightOutput:
    """Parse model text into an ``InsightOutput`` and check its metric references (raises on failure)."""
    insight = InsightOutput.model_validate_json(text)
    validate_metric_references(insight, facts)
    return insight


def _schema(action_metrics: list[str], cited_metrics: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "headline": {"type": "string"},
            "detail": {"type": "string"},
            "recommendation": {"type": "string"},
            "actions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "label": {"type": "string"},
                        "metric": {"type": "string", "enum": action_metrics},
                    },
                    "required": ["label", "metric"],
                    "additionalProperties": False,
                },
            },
            "cited_numbers": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "metric": {"type": "string", "enum": cited_metrics},
                        "value": {"type": "number"},
                    },
                    "required": ["metric", "value"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["headline", "detail", "recommendation", "actions", "cited_numbers"],
        "additionalProperties": False,
    }


INSIGHT_JSON_SCHEMA: dict[str, Any] = _schema([*NUMBER_FACT_NAMES, *LABEL_FACT_NAMES], list(NUMBER_FACT_NAMES))


def insight_json_schema(facts: Facts) -> dict[str, Any]:
    """The schema for one team-day: actions may name its present facts (numbers and labels), cited numbers
    its present numeric facts, in the declared order."""
    numbers = [n for n in NUMBER_FACT_NAMES if n in facts.numbers]
    labels = [n for n in LABEL_FACT_NAMES if n in facts.labels]
    return _schema([*numbers, *labels], numbers)
