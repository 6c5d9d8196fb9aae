"""LLM insights: fact gathering, prompt, schema, Claude call, grounding, rule fallback, checks."""

from __future__ import annotations

import dagster as dg


def definitions() -> dg.Definitions:
    from insights_assets.assets import INSIGHT_ASSETS, INSIGHT_CHECKS
    from insights_assets.sensors import copilot_insights_automation

    return dg.Definitions(assets=INSIGHT_ASSETS, asset_checks=INSIGHT_CHECKS, sensors=[copilot_insights_automation])
