"""The one Definitions object: copilot_assets + insights_assets + resources (workspace.yaml points here)."""

from __future__ import annotations

import dagster as dg

import copilot_assets
import insights_assets
from resources.app_store import StoreResource
from resources.config import DEFAULT_GITHUB_API_URL
from resources.github import GitHubResource
from resources.llm import AnthropicResource
from resources.sync_policy import SyncPolicyResource

defs = dg.Definitions.merge(
    copilot_assets.definitions(),
    insights_assets.definitions(),
    dg.Definitions(
        resources={
            "store": StoreResource(database_url=dg.EnvVar("COPILOT_FLOW_DATABASE_URL").get_value("") or ""),
            "github": GitHubResource(
                base_url=dg.EnvVar("COPILOT_FLOW_GITHUB_API_URL").get_value(DEFAULT_GITHUB_API_URL)
                or DEFAULT_GITHUB_API_URL
            ),
            "llm": AnthropicResource(),
            "sync_policy": SyncPolicyResource(),
        },
    ),
)
