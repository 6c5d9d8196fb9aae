"""`copilot_insights`: one grounded insight per connected team-day, regenerated when its metrics change.

Facts are computed from the store (last 28 days + latest seats); Claude only explains them. Rules take
over when there is no API key, the API fails, or the output is invalid or ungrounded.
"""


import json
from datetime import UTC, datetime

import dagster as dg

from copilot_assets.assets import COPILOT_ASSETS
from copilot_assets.outcomes import RUN_TRIGGER_TAG
from copilot_assets.partitions import team_day_key, team_day_partitions, team_days_of
from insights_assets.facts import Facts
from insights_assets.generate import (
    InsightResult,
    collect_batch,
    custom_id_for,
    generate_insight,
    status_insight,
    submit_batch,
)
from insights_assets.grounding import check_grounding
from insights_assets.load import load_facts
from insights_assets.schema import InsightOutput
from resources import queries
from resources.app_store import StoreResource
from resources.llm import AnthropicResource
from resources.schemas import asset_definition_metadata
from resources.statuses import CONNECTED

LLM_POOL = "llm_api"
BATCH_MIN_TEAM_DAYS = 20  # nightly regeneration of many teams goes through the Batches API (50% price)

@dg.asset(
    partitions_def=team_day_partitions,
    deps=COPILOT_ASSETS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    output_required=False,
    group_name="insights",
    owners=["team:analytics"],
    kinds={"anthropic", "sql"},
    pool=LLM_POOL,
    metadata=asset_definition_metadata("copilot_insights"),
    description="An LLM insight per connected team-day from facts computed over the last 28 days and the "
    "latest seat snapshot. Claude (structured output, cached system prompt) explains; a grounding check "
    "rejects any number that is not a fact; rules take over on any failure (source = rules). During "
    "onboarding, a team whose Copilot data GitHub refused gets a rule-based status insight instead.",
)
def copilot_insights(context: dg.AssetExecutionContext, store: StoreResource, llm: AnthropicResource):
    s = store.get()
    onboarding = context.run.tags.get(RUN_TRIGGER_TAG) == "onboarding"
    items: list[tuple[str, Facts]] = []
    results: dict[str, InsightResult] = {}
    for td in team_days_of(context):
        team = s.get_team(td.team)
        if team.copilot_status != CONNECTED and not onboarding:
            context.log.info(f"{td.team} {td.day}: team is {team.copilot_status}; no insight (connected teams only)")
            continue
        with s.engine.connect() as conn:
            facts = load_facts(conn, team.id, td.day, credit_budget=team.ai_credit_monthly_budget)
        if team.copilot_status != CONNECTED:  # onboarding moves on without Copilot data (product plan)
            results[custom_id_for(facts.team_id, facts.day)] = status_insight(
                facts, team.copilot_status, team.copilot_status_reason)
        items.append((td.team, facts))
    if not items:
        return

    pending = [(slug, f) for slug, f in items if custom_id_for(f.team_id, f.day) not in results]
    if len(pending) >= BATCH_MIN_TEAM_DAYS and llm.configured():
        by_cid = {custom_id_for(f.team_id, f.day): f for _, f in pending}
        batch_id = submit_batch(list(by_cid.items()), llm)
        context.log.info(f"submitted {len(by_cid)} insights as Message Batch {batch_id}")
        results.update(collect_batch(batch_id, by_cid, llm))
    for slug, facts in items:
        cid = custom_id_for(facts.team_id, facts.day)
        result = results.get(cid) or generate_insight(facts, llm)
        s.replace_team_day(facts.team_id, facts.day,
                           {"insights": [_row(result, facts, context.run.run_id)]})
        md = {
            "team": slug,
            "day": facts.day.isoformat(),
            **result.metadata(),
            "headline": result.output.headline,
            "facts": dg.MetadataValue.json(facts.as_dict()),
        }
        for name in ("active_users_avg", "acceptance_rate", "seat_utilisation"):
            value = facts.numbers.get(name)
            if isinstance(value, int | float):
                md[name] = float(value)
        context.log.info(f"insight {slug} {facts.day}: source={result.source}"
                         + (f" (fallback: {result.fallback_reason})" if result.fallback_reason else ""))
        yield dg.AssetMaterialization(asset_key=context.asset_key,
                                      partition=str(team_day_key(slug, facts.day)),
                                      metadata=md)


def _row(result: InsightResult, facts: Facts, run_id: str) -> dict:
    row = result.to_row(facts, created_at=datetime.now(UTC), run_id=run_id)
    row.pop("team_id", None)
    row.pop("day", None)
    return row


@dg.asset_check(asset=copilot_insights, blocking=False,
                description="Every stored insight cites only numbers that are among its facts.")
def copilot_insights_grounded(store: StoreResource) -> dg.AssetCheckResult:
    bad: list[str] = []
    checked = 0
    with store.get().engine.connect() as conn:
        rows = queries.insights_all_teams(conn)
    for r in rows:
        checked += 1
        output = InsightOutput.model_validate({
            "headline": r["headline"], "detail": r["detail"], "recommendation": r["recommendation"],
            "actions": json.loads(r["actions"]), "cited_numbers": json.loads(r["cited_numbers"]),
        })
        if not check_grounding(output, Facts.from_json(r["facts"])).passed:
            bad.append(f"t{r['team_id']}_{r['day']}")
    return dg.AssetCheckResult(passed=not bad, metadata={"insights_checked": checked,
                                                         "ungrounded": ", ".join(bad[:20]) or "none"})


INSIGHT_ASSETS = [copilot_insights]
INSIGHT_CHECKS = [copilot_insights_grounded]
