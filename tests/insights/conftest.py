"""Fixtures for the insights tests: an Anthropic simulator on 127.0.0.1 and an LLM resource."""

from __future__ import annotations

import httpx
import pytest
from insights_support import API_KEY, sample_facts

from insights_assets.facts import Facts
from resources.llm import AnthropicResource
from simulators.anthropic import create_app
from simulators.serve import start_in_thread


@pytest.fixture
def facts() -> Facts:
    return sample_facts()


@pytest.fixture(scope="session")
def sim_server():
    handle = start_in_thread(create_app(batch_processing_seconds=0.2))
    yield handle
    handle.stop()


@pytest.fixture
def sim(sim_server):
    httpx.post(f"{sim_server.url}/_sim/reset").raise_for_status()
    return sim_server


@pytest.fixture
def llm(sim, monkeypatch) -> AnthropicResource:
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("COPILOT_FLOW_LLM_MODEL", raising=False)
    return AnthropicResource(base_url=sim.url, max_retries=1, timeout_seconds=10, batch_poll_seconds=0.05)
