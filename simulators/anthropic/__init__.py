"""Local Anthropic Messages API + Message Batches API simulator (tests, demo, benchmarks).

    python -m simulators.anthropic --port 8788

Point the real ``anthropic`` SDK at it with ``base_url`` / ``ANTHROPIC_BASE_URL``. It validates requests
like the real API (auth via ``x-api-key`` or ``Authorization: Bearer``; ``anthropic-version``; known
model; positive integer ``max_tokens``; non-empty ``messages``; no unknown top-level parameters;
``output_config.format`` a ``json_schema`` whose schema is an object schema using only the supported
subset, with ``additionalProperties: false`` on every object) and answers with schema-valid JSON built
from the FACTS in the user message: the JSON inside ``<data>…</data>``; only numbers from it are cited.

Usage includes prompt caching: a system prefix up to a ``cache_control`` breakpoint of at least 1,024
(estimated) tokens is written on first use (``cache_creation_input_tokens``) and read afterwards
(``cache_read_input_tokens``). Tokens are estimated as characters / 4.

Admin (no auth): ``POST /_sim/faults {"mode", "times": 1, "retry_after": 1.0}``,
``DELETE /_sim/faults``, ``POST /_sim/reset``, ``GET /_sim/requests`` (the request log; the API key is
stored only as a sha256 prefix), ``POST /_sim/config {"batch_processing_seconds"}``.

Fault modes: ``overloaded`` (529 overloaded_error), ``429`` (rate_limit_error + retry-after), ``500``
(api_error), ``invalid_json`` (text that is not JSON), ``refusal`` (stop_reason "refusal"),
``ungrounded`` (valid JSON citing the invented number 987654), ``wrong_schema`` (JSON that ignores the
schema), ``expired`` (batch items only). In a batch, each item consumes one fault: HTTP modes become
``errored`` results, content modes ``succeeded`` results with bad content.

Modules: ``state`` (faults, batches, SimError), ``validation`` (requests checked like the real API),
``answers`` (the deterministic model, usage and caching), ``messages`` (``/v1/messages`` and what every route
shares), ``batches`` (the Message Batches API), ``admin`` (``/_sim``), ``app`` (create_app, main). Every
public name is re-exported here.
"""

from __future__ import annotations

from simulators.anthropic.admin import sim_config, sim_faults, sim_requests, sim_reset
from simulators.anthropic.answers import INVENTED_NUMBER, MIN_CACHEABLE_TOKENS, answer, grounded_answer
from simulators.anthropic.app import create_app, main
from simulators.anthropic.batches import CUSTOM_ID_RE, batch_results, create_batch, retrieve_batch
from simulators.anthropic.messages import create_message
from simulators.anthropic.state import FAULT_MODES, HTTP_FAULTS, Batch, Fault, SimError, SimState
from simulators.anthropic.validation import KNOWN_MODELS, MESSAGE_PARAMS, SUPPORTED_SCHEMA_KEYS, validate_params

__all__ = [
    "CUSTOM_ID_RE",
    "FAULT_MODES",
    "HTTP_FAULTS",
    "INVENTED_NUMBER",
    "KNOWN_MODELS",
    "MESSAGE_PARAMS",
    "MIN_CACHEABLE_TOKENS",
    "SUPPORTED_SCHEMA_KEYS",
    "Batch",
    "Fault",
    "SimError",
    "SimState",
    "answer",
    "batch_results",
    "create_app",
    "create_batch",
    "create_message",
    "grounded_answer",
    "main",
    "retrieve_batch",
    "sim_config",
    "sim_faults",
    "sim_requests",
    "sim_reset",
    "validate_params",
]
