"""Settings: the one module that reads the environment. Every variable the product reads is named here
(and in the README's configuration table); resources take their values from here, or from ``dg.EnvVar`` in
``definitions.py`` so the Dagster UI shows which variable feeds a field, never its value.
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "COPILOT_FLOW_HOME"
DATABASE_URL_ENV = "COPILOT_FLOW_DATABASE_URL"
SECRET_KEY_ENV = "COPILOT_FLOW_SECRET_KEY"  # noqa: S105 - a variable name, not a secret
GITHUB_API_URL_ENV = "COPILOT_FLOW_GITHUB_API_URL"
LLM_MODEL_ENV = "COPILOT_FLOW_LLM_MODEL"
ANTHROPIC_API_KEY_ENV = "ANTHROPIC_API_KEY"  # read by the anthropic SDK itself; we only check it is set
ANTHROPIC_BASE_URL_ENV = "ANTHROPIC_BASE_URL"  # read by the anthropic SDK itself
DAGSTER_HOME_ENV = "DAGSTER_HOME"
DAGSTER_PG_URL_ENV = "DAGSTER_PG_URL"  # read by dagster.postgres.yaml
DAGSTER_EVENT_BATCH_SIZE_ENV = "DAGSTER_EVENT_BATCH_SIZE"  # read by Dagster; set by resources/dagster_storage.py
RUNS_AT_ONCE_ENV = "COPILOT_FLOW_RUNS_AT_ONCE"  # sync_policy.runs_at_once: how many sync runs execute at once

DEFAULT_HOME = ".copilot-flow"
DEFAULT_GITHUB_API_URL = "https://api.github.com"


def env(name: str) -> str:
    """A variable's value, stripped; "" when unset."""
    return os.environ.get(name, "").strip()


def env_raw(name: str) -> str | None:
    """A variable's value as set (None when unset), e.g. the one `teams connect --token-env` names."""
    return os.environ.get(name)


def is_set(name: str) -> bool:
    return bool(env(name))


def runs_at_once() -> int | None:
    """``COPILOT_FLOW_RUNS_AT_ONCE`` as a number ≥ 1, or None when unset (the resource's default, 4)."""
    raw = env(RUNS_AT_ONCE_ENV)
    if not raw:
        return None
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"{RUNS_AT_ONCE_ENV}={raw!r}: expected a whole number ≥ 1 (the run pods / github_api "
                         "pool slots that execute sync runs at once)")
    return n


def home() -> Path:
    """``$COPILOT_FLOW_HOME`` (default ``./.copilot-flow``), created on first use."""
    path = Path(env(HOME_ENV) or DEFAULT_HOME).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    """App store URL: ``COPILOT_FLOW_DATABASE_URL`` or a SQLite file under the home."""
    url = env(DATABASE_URL_ENV)
    if url:
        return normalize_database_url(url)
    return f"sqlite:///{home() / 'copilot_flow.db'}"


def normalize_database_url(url: str) -> str:
    """SQLAlchemy 2.1 maps bare ``postgresql://`` to psycopg 3, which is not installed: use psycopg2."""
    for bare in ("postgresql://", "postgres://"):
        if url.startswith(bare):
            return "postgresql+psycopg2://" + url[len(bare):]
    return url


def github_api_url() -> str:
    return env(GITHUB_API_URL_ENV) or DEFAULT_GITHUB_API_URL


def dagster_home() -> str:
    """``$DAGSTER_HOME`` ("" when unset)."""
    return env(DAGSTER_HOME_ENV)


def enable_dagster_event_batching(size: int) -> None:
    """Let Dagster hand a run's planned events to the event log storage as one batch (Dagster reads
    ``DAGSTER_EVENT_BATCH_SIZE`` at each write). An operator's own value wins; 0 disables."""
    if size < 0:
        raise ValueError(f"event_batch_size must be ≥ 0 (got {size})")
    if size and DAGSTER_EVENT_BATCH_SIZE_ENV not in os.environ:
        os.environ[DAGSTER_EVENT_BATCH_SIZE_ENV] = str(size)


def secret_key() -> str:
    """The Fernet key for tokens at rest ("" when unset)."""
    return env(SECRET_KEY_ENV)


def llm_model() -> str:
    return env(LLM_MODEL_ENV)


def anthropic_key_set() -> bool:
    return is_set(ANTHROPIC_API_KEY_ENV)


def redact_url(url: str) -> str:
    """A database URL safe to print: the password is masked."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database url>"


# every variable the product reads, for the README's table and its test
ENV_VARS = (HOME_ENV, DATABASE_URL_ENV, SECRET_KEY_ENV, GITHUB_API_URL_ENV, LLM_MODEL_ENV, ANTHROPIC_API_KEY_ENV,
            ANTHROPIC_BASE_URL_ENV, DAGSTER_HOME_ENV, DAGSTER_PG_URL_ENV, DAGSTER_EVENT_BATCH_SIZE_ENV,
            RUNS_AT_ONCE_ENV)

# The deployment's names, in one place: the Dockerfile, deploy/helm/values.yaml, workspace.yaml and
# pyproject's [tool.dagster] must agree with these (tests/deploy/test_deployment_files.py checks them).
DEFINITIONS_MODULE = "definitions"  # the module that holds the one Definitions object (`-m definitions`)
CODE_LOCATION_NAME = "copilot_data_flow"
CODE_SERVER_PORT = 4000  # the gRPC port of the code location server (`dagster code-server start -p`)

# Variables whose values are secrets (a key, or a database URL that carries a password): they come from a
# Kubernetes Secret (deploy/helm/secret.example.yaml) or the service manager's environment file, never from
# a plain `env` value, dagster.yaml or run config.
SECRET_ENV_VARS = (SECRET_KEY_ENV, ANTHROPIC_API_KEY_ENV, DATABASE_URL_ENV, DAGSTER_PG_URL_ENV)

# Non-secret variables a code server or run worker reads in a deployment (the rest of ENV_VARS serve the
# embedded default, the demo and the simulators).
RUNTIME_ENV_VARS = (GITHUB_API_URL_ENV, LLM_MODEL_ENV, DAGSTER_HOME_ENV, RUNS_AT_ONCE_ENV)
