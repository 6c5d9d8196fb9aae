"""The one Definitions object: copilot_assets + insights_assets + report_assets + resources (workspace.yaml
points here).

Resource fields that come from the environment are ``dg.EnvVar``s, so the Dagster UI shows which variable
feeds them and never their value (a database URL may carry a password). A variable that is not set leaves
the field at its default (the embedded SQLite store, the public GitHub API)."""

from __future__ import annotations

import dagster as dg

import copilot_assets
import insights_assets
import report_assets
from resources import settings
from resources.app_store import StoreResource
from resources.cost import CostResource
from resources.github import GitHubResource
from resources.llm import AnthropicResource
from resources.sync_policy import SyncPolicyResource
from resources.webhooks import AlertsResource


def _env(field: str, name: str) -> dict[str, dg.EnvVar]:
    """``{field: EnvVar(name)}`` when the variable is set, else nothing (the field keeps its default)."""
    return {field: dg.EnvVar(name)} if settings.is_set(name) else {}


def resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "store": StoreResource(**_env("database_url", settings.DATABASE_URL_ENV)),
        "github": GitHubResource(**_env("base_url", settings.GITHUB_API_URL_ENV)),
        "llm": AnthropicResource(),
        "sync_policy": SyncPolicyResource(**({"runs_at_once": n} if (n := settings.runs_at_once()) else {})),
        "cost": CostResource(),
        "alerts": AlertsResource(),
    }


defs = dg.Definitions.merge(
    copilot_assets.definitions(),
    insights_assets.definitions(),
    report_assets.definitions(),
    dg.Definitions(resources=resources()),
)
