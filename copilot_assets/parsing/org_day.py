"""The aggregate day object (organization-1-day line, or a day_totals[] item of organization-28-day) → rows
of copilot_usage_daily, the language/editor/model/feature breakdowns and the 2026 tables (pull requests, CLI,
Copilot app, third-party agents: parsing/surfaces.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from copilot_assets.parsing.scalars import (
    _CHAT_MODE_RE,
    ACTIVE_USER_FIELDS,
    COUNTERS,
    INT_MAX,
    KEY_MAX,
    UNKNOWN_KEY,
    USAGE_COUNTERS,
    _count,
    _int_or_none,
    _malformed,
    _object,
    _objects,
    _text,
    _with_rate,
    parse_day,
)
from copilot_assets.parsing.surfaces import (
    pull_request_rows,
    surface_rows,
    surface_user_counts,
    third_party_agent_rows,
)


@dataclass
class OrgDayRows:
    """Rows of one organization-day. ``usage`` is the copilot_usage_daily row without
    ``source_report``/``fetched_at``; the other lists are the rows of the breakdown and 2026 tables (an
    absent object gives an empty list)."""

    usage: dict[str, Any]
    languages: list[dict[str, Any]] = field(default_factory=list)
    editors: list[dict[str, Any]] = field(default_factory=list)
    models: list[dict[str, Any]] = field(default_factory=list)
    features: list[dict[str, Any]] = field(default_factory=list)
    pull_requests: list[dict[str, Any]] = field(default_factory=list)
    pr_suggestions: list[dict[str, Any]] = field(default_factory=list)
    cli: list[dict[str, Any]] = field(default_factory=list)
    app: list[dict[str, Any]] = field(default_factory=list)
    third_party_agents: list[dict[str, Any]] = field(default_factory=list)

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        """The rows by store table (``copilot_usage_daily`` holds the one usage row)."""
        return {
            "copilot_usage_daily": [self.usage],
            "copilot_language_daily": self.languages,
            "copilot_editor_daily": self.editors,
            "copilot_model_daily": self.models,
            "copilot_feature_daily": self.features,
            "copilot_pull_request_daily": self.pull_requests,
            "copilot_pr_suggestion_daily": self.pr_suggestions,
            "copilot_cli_daily": self.cli,
            "copilot_app_daily": self.app,
            "copilot_third_party_agent_daily": self.third_party_agents,
        }


def _breakdown(day: date, items: list[Mapping[str, Any]], src_key: str, column: str,
               where: str) -> list[dict[str, Any]]:
    """Aggregate breakdown elements by their key (counters summed), one row per key, sorted by key."""
    rows: dict[str, dict[str, Any]] = {}
    for i, item in enumerate(items):
        key = _text(item.get(src_key), f"{where}[{i}].{src_key}", KEY_MAX, default=UNKNOWN_KEY)
        row = rows.setdefault(key, {"day": day, column: key, **dict.fromkeys(COUNTERS, 0)})
        for counter in COUNTERS:
            row[counter] += _count(item.get(counter), f"{where}[{i}].{counter}")
    return [_with_rate(rows[k], where) for k in sorted(rows)]


def parse_org_day(record: dict, default_day: date | None = None) -> OrgDayRows:
    """One aggregate day object (``organization-1-day`` file line, or one ``day_totals[]`` item of the
    28-day file) → rows for copilot_usage_daily and the language/editor/model/feature breakdowns. A record
    without ``day`` is ``default_day`` (the day a 1-day report was asked for), when given.

    Mapping:

    - usage counters and active-user counts: the top-level fields of the same names.
    - ``chat_interactions``: the sum of the top-level ``chat_panel_*_mode`` fields when any is present;
      otherwise the sum of ``user_initiated_interaction_count`` over ``totals_by_feature`` rows whose
      ``feature`` starts with ``chat`` (``chat_panel_*_mode``, ``chat_inline``).
    - ``agent_interactions``: agent-mode chat interactions (top-level ``chat_panel_agent_mode``, or the
      ``chat_panel_agent_mode`` feature's ``user_initiated_interaction_count`` when the top-level field is
      absent) **plus** the ``agent_edit`` feature's ``user_initiated_interaction_count``. Copilot CLI and
      cloud-agent activity are not counted here (they have their own fields, kept in the raw report).
    - languages: ``totals_by_language_feature`` summed per ``language``; editors: ``totals_by_ide`` per
      ``ide``; models: ``totals_by_model_feature`` summed per ``model``; features: ``totals_by_feature``
      per ``feature``. A missing/empty key becomes ``"unknown"``.
    - ``acceptance_rate`` everywhere comes from :func:`copilot_assets.metrics.acceptance_rate`.
    - the 2026 fields (parsing/surfaces.py): cloud-agent (either name), code-review, CLI and app active-user
      counts on the usage row (``None`` when absent); ``pull_requests{}``, ``totals_by_cli{}``,
      ``totals_by_copilot_app{}``, ``totals_by_3rd_party_agent[]`` as rows of their own tables.
    """
    rec = _object(record, "record")
    day = default_day if rec.get("day") is None and default_day is not None else parse_day(rec.get("day"), "day")

    usage: dict[str, Any] = {"day": day}
    for name in ACTIVE_USER_FIELDS:
        usage[name] = _int_or_none(rec.get(name), name, INT_MAX)
    for name in USAGE_COUNTERS:
        usage[name] = _count(rec.get(name), name)

    by_lang = _objects(rec.get("totals_by_language_feature"), "totals_by_language_feature")
    by_ide = _objects(rec.get("totals_by_ide"), "totals_by_ide")
    by_model = _objects(rec.get("totals_by_model_feature"), "totals_by_model_feature")
    by_feature = _objects(rec.get("totals_by_feature"), "totals_by_feature")

    languages = _breakdown(day, by_lang, "language", "language", "totals_by_language_feature")
    editors = _breakdown(day, by_ide, "ide", "editor", "totals_by_ide")
    models = _breakdown(day, by_model, "model", "model", "totals_by_model_feature")
    features = _breakdown(day, by_feature, "feature", "feature", "totals_by_feature")
    feature_interactions = {r["feature"]: r["user_initiated_interaction_count"] for r in features}

    chat_modes = {k: _int_or_none(v, k) for k, v in rec.items()
                  if isinstance(k, str) and _CHAT_MODE_RE.fullmatch(k)}
    chat_modes = {k: v for k, v in chat_modes.items() if v is not None}
    if chat_modes:
        chat = sum(chat_modes.values())
    else:
        chat = sum(n for f, n in feature_interactions.items() if f.startswith("chat"))
    agent_mode = chat_modes.get("chat_panel_agent_mode")
    if agent_mode is None:
        agent_mode = feature_interactions.get("chat_panel_agent_mode", 0)
    usage["chat_interactions"] = chat
    usage["agent_interactions"] = agent_mode + feature_interactions.get("agent_edit", 0)
    _with_rate(usage, "record")
    usage.update(surface_user_counts(rec))
    pull_requests, pr_suggestions = pull_request_rows(rec, day)
    return OrgDayRows(usage=usage, languages=languages, editors=editors, models=models, features=features,
                      pull_requests=pull_requests, pr_suggestions=pr_suggestions,
                      cli=surface_rows(rec, "totals_by_cli", day), app=surface_rows(rec, "totals_by_copilot_app", day),
                      third_party_agents=third_party_agent_rows(rec, day))


def parse_org_28_day(records: list[dict], skipped: Counter[str] | None = None) -> dict[date, OrgDayRows]:
    """The ``organization-28-day`` file object(s) → ``{day: OrgDayRows}``, one entry per ``day_totals[]``
    item (``org_28_day_items``, each parsed by ``parse_org_day``)."""
    return {day: parse_org_day(item) for day, item in org_28_day_items(records, skipped).items()}


def org_28_day_items(records: list[dict], skipped: Counter[str] | None = None) -> dict[date, dict]:
    """The ``organization-28-day`` file object(s) → ``{day: the day's raw day object}``, one entry per
    ``day_totals[]`` item. Several objects (shards) are merged; a day present twice keeps the last one. An
    object that has no ``day_totals`` but a ``day`` is taken as one day object itself. A ``day_totals`` item
    without a ``day`` cannot be placed: it is skipped and counted in ``skipped``."""
    days: dict[date, dict] = {}
    for i, obj in enumerate(_objects(records, "records")):
        if "day_totals" in obj:
            items = _objects(obj.get("day_totals"), f"records[{i}].day_totals")
        elif "day" in obj:
            items = [obj]
        else:
            raise _malformed(f"records[{i}]: a 28-day report object needs day_totals")
        for item in items:
            if item.get("day") is None:
                if skipped is not None:
                    skipped["day_totals item without day"] += 1
                continue
            days[parse_day(item.get("day"), f"records[{i}].day_totals.day")] = item  # type: ignore[assignment]
    return dict(sorted(days.items()))
