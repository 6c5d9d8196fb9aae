"""Local GitHub Copilot REST simulator (reports API, billing, seats, signed download host).

    python -m simulators.github --port 8787 --config sim.json

Config JSON = SimConfig: {"orgs": {"acme": {"tokens": ["t"], "seats": 50, "faults": [...]}}, "auto_orgs": false}.
State lives in ``app.state.sim`` (a SimState) so in-process tests can configure it directly; the admin
endpoints under ``/_sim`` (no auth) do the same over HTTP. The request log never stores a raw token.

As strict as GitHub documents (reference/github-copilot-api.md §6), never kinder, and no invented rule:
- no seat-count rule: an org with 1–4 seats is served normally; with 0 seats the 1-day reports answer 204;
  GitHub teams with fewer than 5 Copilot users are absent from user-teams-1-day (documented);
- "Copilot usage metrics" policy off (``metrics_policy: false``) → every report endpoint answers 403 with the
  policy message; no Copilot subscription (``copilot_subscription: false``) → billing/seats answer 404
  "Copilot Business is not enabled for this organization.", the reports 404 Not Found;
- days not ready (newer than today − ready_lag_days) or before the history floor answer 204 or 404, chosen
  per (org, report, day) from a sha256 seed (``not_ready_status``: "mixed" | "204" | "404");
- REST routes are also served under ``/organizations/{org}/...`` and downloads under ``/_dl/...``: the targets
  of the "redirect" (same origin) and "redirect_other_host" (127.0.0.1 ↔ localhost, same port) faults, which
  never redirect again;
- GitHub Apps (``apps``: App id → public key PEM; ``OrgConfig.app_installation``): the App's RS256 JWT is
  verified (iss, iat, exp on the App clock), ``POST /app/installations/{id}/access_tokens`` issues
  installation tokens expiring after ``installation_token_ttl_seconds``, ``GET /orgs/{org}/installation``
  finds the installation; the org endpoints accept those tokens until they expire, answer 401 once the App is
  uninstalled, and 403 "Resource not accessible by integration" (+ ``X-Accepted-GitHub-Permissions``) for a
  permission the installation lacks. ``/_sim/installations/{id}`` uninstalls, changes permissions or expires
  tokens; ``/_sim/clock`` moves the App clock;
- report files ready before anyone asks, as GitHub serves them from blob storage: ``/_sim/prerender`` draws an
  org's files for given days (and its latest 28-day window) ahead of time, so a benchmark's window measures
  the pipeline rather than the simulator drawing synthetic data (the same bytes either way).

Modules: ``config`` (Fault, OrgConfig, SimConfig), ``state`` (SimState, request log), ``responses`` (JSON,
errors, rate headers, fault responses, redirects), ``rest`` (the pipeline every REST route shares),
``reports``, ``billing``, ``downloads`` (signed links and the download host), ``prerender`` (files drawn
ahead of time), ``apps`` (GitHub Apps), ``admin``, ``app``
(create_app, main). The data itself comes from simulators/github_data.py. Every public name is re-exported
here.
"""

from __future__ import annotations

from simulators.github.admin import admin_org, admin_requests, admin_reset, admin_stats
from simulators.github.app import create_app, main
from simulators.github.apps import (
    access_tokens,
    admin_apps,
    admin_clock,
    admin_installation,
    new_app_key_pair,
    org_installation,
)
from simulators.github.billing import billing, seats
from simulators.github.config import (
    DEFAULT_APP_PERMISSIONS,
    ENVELOPE_MODES,
    FAULT_MODES,
    FAULT_STATUSES,
    METRICS_PERMISSION,
    NOT_READY_STATUSES,
    REDIRECT_MODES,
    RESPONSE_MODES,
    SEATS_PERMISSION,
    Fault,
    Installation,
    OrgConfig,
    SimConfig,
)
from simulators.github.downloads import download
from simulators.github.reports import LATEST_REPORTS, ONE_DAY_REPORTS, latest_report, legacy_metrics, one_day_report
from simulators.github.responses import (
    API_VERSIONS,
    DEFAULT_API_VERSION,
    DOCS,
    MSG_LEGACY_POLICY,
    MSG_NO_SUBSCRIPTION,
    MSG_PERMISSIONS,
    MSG_POLICY,
    MSG_PRIMARY,
    MSG_SECONDARY,
)
from simulators.github.state import IssuedToken, SimState, token_prefix

__all__ = [
    "API_VERSIONS",
    "DEFAULT_API_VERSION",
    "DEFAULT_APP_PERMISSIONS",
    "DOCS",
    "ENVELOPE_MODES",
    "FAULT_MODES",
    "FAULT_STATUSES",
    "LATEST_REPORTS",
    "METRICS_PERMISSION",
    "MSG_LEGACY_POLICY",
    "MSG_NO_SUBSCRIPTION",
    "MSG_PERMISSIONS",
    "MSG_POLICY",
    "MSG_PRIMARY",
    "MSG_SECONDARY",
    "NOT_READY_STATUSES",
    "ONE_DAY_REPORTS",
    "REDIRECT_MODES",
    "RESPONSE_MODES",
    "SEATS_PERMISSION",
    "Fault",
    "Installation",
    "IssuedToken",
    "OrgConfig",
    "SimConfig",
    "SimState",
    "access_tokens",
    "admin_apps",
    "admin_clock",
    "admin_installation",
    "admin_org",
    "admin_requests",
    "admin_reset",
    "admin_stats",
    "billing",
    "create_app",
    "download",
    "latest_report",
    "legacy_metrics",
    "main",
    "new_app_key_pair",
    "one_day_report",
    "org_installation",
    "seats",
    "token_prefix",
]
