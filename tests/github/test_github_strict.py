"""The simulator is as strict as GitHub documents and invents no rule; the client types GitHub's causes.

Over real HTTP: seat counts, the metrics policy, the Copilot subscription, the legacy 422, omittable
fields omitted in ordinary data."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest

from resources.github import NotReady, Report
from resources.github_errors import CopilotAccessDenied, NotFound
from simulators import github_data as data
from simulators.github import MSG_POLICY, Fault, OrgConfig
from tests.github.conftest import DAY, TODAY, TOKEN

pytestmark = pytest.mark.slow

ONE_DAY = ("organization-1-day", "users-1-day", "user-teams-1-day")


def org(state, **kw):
    state.set_org("acme", tokens=[TOKEN], **{"seats": 50, **kw})


def test_three_seat_org_is_served_normally(sim, make_client):
    _, state = sim
    org(state, seats=3)
    c = make_client()
    orgday = c.report_day("organization-1-day", DAY)
    users = c.report_day("users-1-day", DAY)
    teams = c.report_day("user-teams-1-day", DAY)
    assert all(isinstance(r, Report) for r in (orgday, users, teams))
    assert orgday.records[0]["daily_active_users"] == len(users.records) == sum(data.active_bitmap("acme", DAY, 3))
    assert teams.records == []  # every GitHub team has < 5 Copilot users: absent (documented rule)
    assert isinstance(c.report_latest_28("organization-28-day"), Report)
    assert c.billing()["seat_breakdown"]["total"] == 3 and len(c.seats()) == 3
    assert {r["status"] for r in state.request_log()} == {200}


def test_zero_seat_org_has_nothing_to_report(sim, make_client):
    _, state = sim
    org(state, seats=0)
    c = make_client()
    for report in ONE_DAY:
        assert c.report_day(report, DAY) == NotReady(report, DAY, "http_204")
    assert c.billing()["seat_breakdown"]["total"] == 0 and c.seats() == []


def test_metrics_policy_off_is_403_policy_disabled_on_every_report(sim, make_client, sleeps):
    _, state = sim
    org(state, metrics_policy=False)
    c = make_client()
    for call in (lambda: c.report_day("users-1-day", DAY), lambda: c.report_day("user-teams-1-day", DAY),
                 lambda: c.report_latest_28("organization-28-day"),
                 lambda: c.report_latest_28_by_day("users-28-day")):
        with pytest.raises(CopilotAccessDenied) as ei:
            call()
        assert ei.value.http_status == 403 and ei.value.reason == "policy_disabled"
        assert ei.value.to_metadata()["reason"] == "policy_disabled"
    assert sleeps.waits == []
    assert c.billing()["seat_breakdown"]["total"] == 50  # billing and seats still answer
    assert len(c.seats()) == 50


def test_no_subscription_billing_404_is_no_subscription(sim, make_client):
    _, state = sim
    org(state, copilot_subscription=False)
    c = make_client()
    for call in (c.billing, c.seats):
        with pytest.raises(CopilotAccessDenied) as ei:
            call()
        err = ei.value
        assert (err.http_status, err.reason, err.error_kind) == (404, "no_subscription", "access_denied")
        assert err.message == "Copilot Business is not enabled for this organization."
    # report endpoints answer a plain 404: not ready for a 1-day report, NotFound for the 28-day ones
    assert c.report_day("organization-1-day", DAY) == NotReady("organization-1-day", DAY, "http_404")
    with pytest.raises(NotFound):
        c.report_latest_28("users-28-day")


def test_legacy_422_policy_is_policy_disabled_and_other_422_invalid(sim, make_client):
    _, state = sim
    org(state, faults=[{"mode": "422_policy", "endpoint": "organization-1-day"}])
    with pytest.raises(CopilotAccessDenied) as ei:
        make_client().report_day("organization-1-day", DAY)
    assert (ei.value.http_status, ei.value.reason) == (422, "policy_disabled")


def test_knobs_over_the_admin_endpoint(sim):
    url, _ = sim
    body = {"tokens": ["tb"], "seats": 7, "metrics_policy": False, "copilot_subscription": True,
            "not_ready_status": "404", "seats_link_host": "localhost",
            "faults": [{"mode": "secondary_limit", "status": 429, "endpoint": "seats"}]}
    r = httpx.post(url + "/_sim/orgs/beta", json=body)
    assert r.status_code == 200
    cfg = r.json()["config"]
    assert (cfg["metrics_policy"], cfg["not_ready_status"], cfg["seats_link_host"]) == (False, "404", "localhost")
    assert cfg["faults"][0]["status"] == 429 and cfg["faults"][0]["retry_after"] is None
    h = {"Authorization": "Bearer tb", "User-Agent": "t"}
    r = httpx.get(f"{url}/orgs/beta/copilot/metrics/reports/users-1-day?day={DAY}", headers=h)
    assert r.status_code == 403
    assert r.json()["message"] == MSG_POLICY == "The 'Copilot usage metrics' policy must be enabled to use this API"
    r = httpx.get(f"{url}/orgs/beta/copilot/billing/seats", headers=h)
    assert r.status_code == 429 and "retry-after" not in r.headers
    assert r.json()["message"].startswith("You have exceeded a secondary rate limit")
    for bad in ({"not_ready_status": "500"}, {"faults": [{"mode": "secondary_limit", "status": 500}]},
                {"faults": [{"mode": "redirect", "status": 200}]}, {"faults": [{"mode": "500", "status": 500}]},
                {"faults": [{"mode": "403_licenses"}]}):
        assert httpx.post(url + "/_sim/orgs/x", json=bad).status_code == 400, bad


def test_knob_defaults():
    oc = OrgConfig()
    assert (oc.metrics_policy, oc.copilot_subscription, oc.not_ready_status, oc.seats_link_host) == (
        True, True, "mixed", None)
    f = Fault(mode="secondary_limit")
    assert (f.status, f.retry_after) == (None, None)


def test_secondary_limit_default_is_403_without_retry_after_and_primary_429_keeps_its_headers(sim):
    url, state = sim
    org(state, faults=[{"mode": "secondary_limit", "endpoint": "billing"}, {"mode": "429", "endpoint": "seats"}])
    h = {"Authorization": f"Bearer {TOKEN}", "User-Agent": "t"}
    r = httpx.get(f"{url}/orgs/acme/copilot/billing", headers=h)
    assert r.status_code == 403 and "retry-after" not in r.headers
    assert r.json()["message"].startswith("You have exceeded a secondary rate limit")
    r = httpx.get(f"{url}/orgs/acme/copilot/billing/seats", headers=h)
    assert r.status_code == 429 and r.headers["retry-after"] == "1" and r.headers["x-ratelimit-remaining"] == "0"
    assert "x-ratelimit-reset" in r.headers


# ---------------------------------------------------------------- omittable fields, in ordinary data


def _orgs_by_enterprise_key() -> tuple[str, str]:
    names = [f"org{i}" for i in range(40)]
    return (next(n for n in names if data.omits_enterprise_id(n)),
            next(n for n in names if not data.omits_enterprise_id(n)))


def test_enterprise_id_absent_for_some_orgs_null_for_others(sim, make_client):
    _, state = sim
    absent, null = _orgs_by_enterprise_key()
    for name in (absent, null):
        state.set_org(name, tokens=[TOKEN], seats=20)
    for name, present in ((absent, False), (null, True)):
        c = make_client(org=name)
        recs = c.report_day("organization-1-day", DAY).records + c.report_day("users-1-day", DAY).records
        assert recs and all(("enterprise_id" in r) is present for r in recs)
        assert all(r.get("enterprise_id") is None for r in recs)


def test_one_user_day_without_login_and_sums_still_match(sim, make_client):
    _, state = sim
    org(state, seats=60)
    end = date.fromisoformat(TODAY) - timedelta(days=1)
    days = [end - timedelta(days=k) for k in range(28)]
    nologin_days = [d for d in days if data.user_without_login("acme", d, 60)]
    assert 1 <= len(nologin_days) <= 8  # about one day in 11
    c = make_client()
    d = nologin_days[0]
    users = c.report_day("users-1-day", d).records
    missing = [u for u in users if "user_login" not in u]
    assert [u["user_id"] for u in missing] == [data.user_without_login("acme", d, 60)]
    assert all(u["user_login"] for u in users if u not in missing)
    orgday = c.report_day("organization-1-day", d).records[0]
    assert orgday["daily_active_users"] == len(users)
    for k in data.CODE_COUNTERS:
        assert orgday[k] == sum(u[k] for u in users)
    # the same user-day in users-28-day
    with c.report_latest_28_by_day("users-28-day") as spool:
        for day in days:
            uid = data.user_without_login("acme", day, 60)
            assert [r["user_id"] for r in spool.records(day) if "user_login" not in r] == ([uid] if uid else [])
    other = next(x for x in days if x not in nologin_days)
    assert all("user_login" in u for u in c.report_day("users-1-day", other).records)


def test_breakdown_arrays_absent_without_activity_of_that_kind(sim, make_client):
    _, state = sim
    org(state, seats=200)
    c = make_client()
    users = c.report_day("users-1-day", DAY).records
    cli_only = [u for u in users if "totals_by_ide" not in u]
    assert cli_only  # e.g. a user-day whose only activity is Copilot CLI (not an IDE)
    assert all(u["used_cli"] and [f["feature"] for f in u["totals_by_feature"]] == ["copilot_cli"] for u in cli_only)
    assert all(u.get("totals_by_ide") for u in users if u not in cli_only)  # never an empty array
    orgday = c.report_day("organization-1-day", DAY).records[0]
    for k in data.CODE_COUNTERS:
        assert orgday[k] == sum(u[k] for u in users) == sum(f[k] for f in orgday["totals_by_feature"])
    assert sum(i["code_generation_activity_count"] for i in orgday["totals_by_ide"]) == sum(
        i["code_generation_activity_count"] for u in users for i in u.get("totals_by_ide", []))
