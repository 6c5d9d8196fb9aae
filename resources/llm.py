"""LLM settings for insights: the official ``anthropic`` SDK behind a Dagster resource.

The API key is never a config field (config can be logged and shown in the UI): the SDK reads
``ANTHROPIC_API_KEY`` itself. ``ANTHROPIC_BASE_URL`` (or ``base_url``) points it at another server,
e.g. ``simulators/anthropic/``. Without a key, insights fall back to rules.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
from pydantic import Field

from resources import settings

MODEL_ENV = settings.LLM_MODEL_ENV
DEFAULT_MODEL = "claude-sonnet-5-5"
"""A current model id. (``claude-sonnet-4-5`` is in the SDK's DEPRECATED_MODELS, end of life
2026-11-30, so it is not the default; set ``COPILOT_FLOW_LLM_MODEL`` to choose another.)"""

BATCH_DISCOUNT = 0.5


class AnthropicResource(dg.ConfigurableResource):
    """Claude settings. Prices are USD per million tokens and only feed the cost estimate."""

    model: str | None = Field(
        default=None, description=f"Model id; None means ${MODEL_ENV} or {DEFAULT_MODEL}."
    )
    max_tokens: int = Field(default=1024, description="max_tokens of each insight request.")
    timeout_seconds: float = Field(default=60.0, description="Per-request timeout (the SDK's timeout).")
    max_retries: int = Field(default=2, description="SDK retries on 408/409/429/5xx/529 and network errors.")
    base_url: str | None = Field(
        default=None, description="API base URL; None means ANTHROPIC_BASE_URL or the SDK default."
    )
    price_input_per_mtok: float = Field(default=2.0)
    price_output_per_mtok: float = Field(default=10.0)
    price_cache_read_per_mtok: float = Field(default=0.2)
    price_cache_write_per_mtok: float = Field(default=2.5)
    batch_poll_seconds: float = Field(default=10.0, description="Batch status poll interval.")
    batch_timeout_seconds: float = Field(default=6 * 3600.0, description="Give up polling a batch after this.")
    cache_ttl: str = Field(default="5m", description='Prompt-cache TTL of the shared prefix: "5m" or "1h".')

    def model_id(self) -> str:
        return self.model or settings.llm_model() or DEFAULT_MODEL

    def configured(self) -> bool:
        """Whether ``ANTHROPIC_API_KEY`` is set (the SDK reads it; we never hold it in config)."""
        return settings.anthropic_key_set()

    def client(self) -> Any:
        import anthropic

        return anthropic.Anthropic(
            base_url=self.base_url or None,
            max_retries=self.max_retries,
            timeout=self.timeout_seconds,
        )

    def cost_usd(
        self,
        input_tokens: int,
        output_tokens: int,
        cache_read_input_tokens: int = 0,
        cache_creation_input_tokens: int = 0,
        *,
        batch: bool = False,
    ) -> float:
        cost = (
            input_tokens * self.price_input_per_mtok
            + output_tokens * self.price_output_per_mtok
            + cache_read_input_tokens * self.price_cache_read_per_mtok
            + cache_creation_input_tokens * self.price_cache_write_per_mtok
        ) / 1_000_000
        return round(cost * (BATCH_DISCOUNT if batch else 1.0), 8)
