"""The GitHub simulator itself: response hygiene, admin endpoints, data consistency, scale."""

from __future__ import annotations

import json
import os
import time
from datetime import date, timedelta

import httpx
import pytest

from simulators import github_data as data
from simulators.github import OrgConfig, SimConfig, create_app, main
from simulators.serve import start_in_thread
from tests.github.conftest import DAY, TOKEN

H = {"Authorization": f"Bearer {TOKEN}", "User-Agent": "t", "Accept": "application/vnd.github+json"}


def get(url: str, path: str, headers: dict | None = None, **kw) -> httpx.Response:
    return httpx.get(url + path, headers=H if headers is None else headers, timeout=10, **kw)


def test_error_envelope_and_headers(sim):
    url, _ = sim
    r = get(url, "/orgs/acme/copilot/billing", {**H, "Authorization": "Bearer wrong"})
    assert r.status_code == 401
    assert r.json()["message"] == "Bad credentials" and r.json()["status"] == "401"
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    ok = get(url, "/orgs/acme/copilot/billing", {**H, "X-GitHub-Api-Version": "2026-03-10"})
    assert ok.status_code == 200
    assert ok.headers["x-github-api-version-selected"] == "2026-03-10"
    assert int(ok.headers["x-ratelimit-remaining"]) <= 5000 and "x-ratelimit-reset" in ok.headers
    assert get(url, "/orgs/acme/copilot/billing").headers["x-github-api-version-selected"] == "2022-11-28"


def test_api_version_user_agent_legacy_unknown_org(sim):
    url, _ = sim
    r = get(url, "/orgs/acme/copilot/billing", {**H, "X-GitHub-Api-Version": "2099-01-01"})
    assert r.status_code == 400 and r.json()["status"] == "400"
    no_ua = httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"})
    no_ua.headers.pop("user-agent", None)
    assert no_ua.get(url + "/orgs/acme/copilot/billing").status_code == 403
    no_ua.close()
    assert get(url, "/orgs/acme/copilot/metrics").status_code == 404
    assert get(url, "/orgs/other/copilot/billing").status_code == 404
    assert get(url, "/orgs/acme/copilot/metrics/reports/users-1-day").status_code == 422  # day missing


def test_auto_orgs():
    app = create_app(SimConfig(auto_orgs=True, today="2026-11-20"))
    h = start_in_thread(app)
    try:
        r = get(h.url, "/orgs/anything/copilot/billing", {**H, "Authorization": "Bearer sim-token-anything"})
        assert r.status_code == 200
        assert get(h.url, "/orgs/anything/copilot/billing").status_code == 401
    finally:
        h.stop()


def test_seats_pages_and_link_header(sim):
    url, state = sim
    state.set_org("acme", OrgConfig(tokens=[TOKEN], seats=120))
    r = get(url, "/orgs/acme/copilot/billing/seats")
    assert r.json()["total_seats"] == 120 and len(r.json()["seats"]) == 50  # default per_page
    assert 'rel="next"' in r.headers["link"] and 'rel="last"' in r.headers["link"]
    assert r.headers["link"].startswith(f"<{url}/orgs/acme/copilot/billing/seats?page=2")
    r = get(url, "/orgs/acme/copilot/billing/seats?per_page=500&page=2")
    assert len(r.json()["seats"]) == 20  # per_page capped at 100
    assert 'rel="next"' not in r.headers["link"]


def test_admin_endpoints_and_request_log(sim):
    url, state = sim
    r = httpx.post(url + "/_sim/orgs/Beta", json={"tokens": ["tb"], "seats": 7, "faults": [{"mode": "404"}]})
    assert r.status_code == 200
    assert get(url, "/orgs/beta/copilot/billing", {**H, "Authorization": "Bearer tb"}).status_code == 404
    bad = httpx.post(url + "/_sim/orgs/x", json={"faults": [{"mode": "nope"}]})
    assert bad.status_code == 400
    get(url, "/orgs/acme/copilot/billing")
    log = httpx.get(url + "/_sim/requests").json()
    assert {e["org"] for e in log} == {"beta", "acme"}
    keys = {"method", "host", "path", "org", "endpoint_kind", "token_sha256_prefix", "had_authorization", "auth",
            "status", "ts"}
    assert all(set(e) == keys for e in log)
    assert {e["auth"] for e in log} == {"token"}
    assert TOKEN not in json.dumps(log) and "tb" not in [e["token_sha256_prefix"] for e in log]
    stats = httpx.get(url + "/_sim/stats").json()
    assert stats["requests"]["acme"] == 1 and stats["peak_in_flight"]["acme"] >= 1
    assert httpx.delete(url + "/_sim/requests").status_code == 200
    assert httpx.get(url + "/_sim/requests").json() == []
    assert httpx.post(url + "/_sim/reset").status_code == 200
    assert state.org("beta") is None


def test_download_signature_checked(sim):
    url, state = sim
    env = get(url, f"/orgs/acme/copilot/metrics/reports/users-1-day?day={DAY}").json()
    link = env["download_links"][0]
    assert httpx.get(link).status_code == 200
    tampered = link.replace("sig=", "sig=00")
    r = httpx.get(tampered)
    assert r.status_code == 403 and "AuthenticationFailed" in r.text
    state.set_org("acme", tokens=[TOKEN], seats=50, link_ttl_seconds=-1)
    env = get(url, f"/orgs/acme/copilot/metrics/reports/users-1-day?day={DAY}").json()
    assert httpx.get(env["download_links"][0]).status_code == 403


def test_latency_overlaps(sim):
    url, state = sim
    state.set_org("acme", tokens=[TOKEN], seats=50, latency_ms=300)
    import concurrent.futures as cf

    t = time.perf_counter()
    with cf.ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(lambda _: get(url, "/orgs/acme/copilot/billing").status_code, range(4)))
    assert codes == [200] * 4
    assert time.perf_counter() - t < 1.0
    assert state.stats()["peak_in_flight"]["acme"] >= 2


def test_data_deterministic_and_consistent():
    a = data.org_day("acme", DAY, 60)
    assert a == data.org_day("acme", DAY, 60)
    assert a["organization_id"] == data.org_id("acme") and isinstance(a["organization_id"], str)
    assert data.org_id("acme") != data.org_id("beta")
    rows = list(data.users_1_day_rows("acme", DAY, 60))
    assert a["daily_active_users"] == len(rows)
    assert a["daily_active_users"] <= a["weekly_active_users"] <= a["monthly_active_users"] <= 60
    for k in data.CODE_COUNTERS:
        assert a[k] == sum(r[k] for r in rows)
        assert a[k] == sum(f[k] for f in a["totals_by_feature"])
    assert (
        sum(f["code_generation_activity_count"] for f in a["totals_by_language_model"])
        == a["code_generation_activity_count"]
    )
    # shared logins across orgs, different activity
    b_rows = list(data.users_1_day_rows("beta", DAY, 60))
    assert {r["user_login"] for r in rows} & {r["user_login"] for r in b_rows}
    assert rows[0]["user_id"] >= 100001


def test_seats_never_used_and_dormant():
    today = date(2026, 11, 20)
    seats = data.seats_page("acme", 40, today, 1, 100)
    never = [s for s in seats if s["last_activity_at"] is None]
    dormant = [
        s for s in seats if s["last_activity_at"] and s["last_activity_at"] < (today - timedelta(days=30)).isoformat()
    ]
    assert never and dormant
    b = data.billing("acme", 40, today)
    assert b["seat_breakdown"]["total"] == 40
    assert b["seat_breakdown"]["active_this_cycle"] + b["seat_breakdown"]["inactive_this_cycle"] == 40
    members = data.team_members(40)
    assert 0 < len(members["tiny"]) < 5


def test_10k_seat_users_report_is_served_in_shards(sim, make_client):
    _, state = sim
    state.set_org("acme", tokens=[TOKEN], seats=10000, shards=2)
    c = make_client()
    rep = c.report_day("users-1-day", DAY - timedelta(days=1))
    assert rep.shards == 2
    assert len(rep.records) > 5000  # speed is measured by bench/, never asserted in a test


def test_main_parses_config(tmp_path, monkeypatch):
    cfg = tmp_path / "sim.json"
    cfg.write_text(json.dumps({"orgs": {"acme": {"seats": 10}}, "latency_ms": 5}))
    seen = {}

    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    assert main(["--port", "9999", "--config", str(cfg)]) == 0
    assert seen["port"] == 9999
    assert seen["app"].state.sim.org("acme").seats == 10
    with pytest.raises(ValueError):
        SimConfig.from_dict({"orgs": {"x": {"bogus": 1}}})


def test_user_teams_report_is_not_ready_before_its_start_day(sim):
    url, state = sim

    def status(report: str, day: str) -> int:
        return get(url, f"/orgs/acme/copilot/metrics/reports/{report}?day={day}").status_code

    def not_ready(day: str) -> int:  # 204 or 404, per (org, report, day)
        return data.not_ready_status("acme", "user-teams-1-day", date.fromisoformat(day))

    # default: GitHub added user-teams-1-day on 2026-05-14; the other 1-day reports keep the full history
    days = ("2026-05-12", "2026-05-13", "2026-05-14", "2026-05-15")
    assert [status("user-teams-1-day", d) for d in days] == [not_ready(days[0]), not_ready(days[1]), 200, 200]
    assert status("users-1-day", "2026-05-13") == 200 and status("organization-1-day", "2026-05-13") == 200
    state.set_org("acme", tokens=[TOKEN], seats=50, user_teams_start=None)
    assert status("user-teams-1-day", "2026-05-13") == 200
    state.set_org("acme", tokens=[TOKEN], seats=50, user_teams_start="2026-06-01", not_ready_status="204")
    assert (status("user-teams-1-day", "2026-05-31"), status("user-teams-1-day", "2026-06-01")) == (204, 200)
    # the history floor still applies to user-teams when it is the later of the two
    state.set_org("acme", tokens=[TOKEN], seats=50, history_start="2026-07-01", not_ready_status="404")
    assert (status("user-teams-1-day", "2026-06-30"), status("user-teams-1-day", "2026-07-01")) == (404, 200)
    with pytest.raises(ValueError, match="user_teams_start"):
        OrgConfig.from_dict({"user_teams_start": "May 14"})


def _download_all(url: str, path: str) -> list[bytes]:
    env = get(url, path).json()
    return [httpx.get(link).content for link in env["download_links"]]


def test_prerendered_reports_are_the_bytes_drawn_on_request(sim, monkeypatch):
    url, state = sim
    state.set_org("acme", tokens=[TOKEN], seats=30, shards=2)
    paths = [f"/orgs/acme/copilot/metrics/reports/{r}?day={DAY}"
             for r in ("organization-1-day", "users-1-day", "user-teams-1-day")]
    paths += [f"/orgs/acme/copilot/metrics/reports/{r}/latest" for r in ("organization-28-day", "users-28-day")]
    drawn = [_download_all(url, p) for p in paths]
    assert all(b for files in drawn for b in files)

    r = httpx.post(url + "/_sim/prerender", json={"days": [DAY.isoformat(), "2099-01-01"]})
    assert r.status_code == 200, r.text
    # 1 + 2 + 2 one-day files for DAY (2099 is not served), 1 + 2 for the latest window
    assert r.json()["files"] == 8 and r.json()["orgs"] == 1
    assert r.json()["bytes"] == sum(len(b) for files in drawn for b in files)

    import simulators.github.downloads as dl

    def no_drawing(*a, **kw):
        raise AssertionError("drawn on request although prerendered")

    monkeypatch.setattr(dl, "_shard_lines", no_drawing)
    assert [_download_all(url, p) for p in paths] == drawn

    # another day, a corrupted link and a changed org are drawn on request again
    monkeypatch.undo()
    later = (DAY + timedelta(days=1)).isoformat()
    assert get(url, f"/orgs/acme/copilot/metrics/reports/users-1-day?day={later}").status_code == 200
    state.set_org("acme", tokens=[TOKEN], seats=31, shards=2)
    assert state.rendered == {}
    state.set_org("acme", tokens=[TOKEN], seats=30, shards=2,
                  faults=[{"mode": "malformed_ndjson", "endpoint": "users-1-day"}])
    httpx.post(url + "/_sim/prerender", json={"days": [DAY.isoformat()]}).raise_for_status()
    corrupted = _download_all(url, paths[1])
    assert b"this is {not json" in corrupted[-1] and corrupted != drawn[1]


def test_prerender_refuses_bad_input(sim):
    url, state = sim
    assert httpx.post(url + "/_sim/prerender", json={"days": ["2026-13-01"]}).status_code == 400
    r = httpx.post(url + "/_sim/prerender", json={"days": [DAY.isoformat()], "orgs": ["nobody"]})
    assert r.status_code == 400 and "nobody" in r.json()["error"]
    assert httpx.post(url + "/_sim/prerender", json={"days": [], "orgs": "acme"}).status_code == 400
    assert state.rendered == {}


def test_prerender_of_many_orgs_uses_helper_processes_and_the_same_bytes():
    from simulators.github.prerender import PARALLEL_FROM_ORGS, prerender
    from simulators.github.state import SimState

    orgs = [f"org{i}" for i in range(PARALLEL_FROM_ORGS)]
    serial, parallel = SimState(SimConfig(auto_orgs=True, today="2026-11-20")), SimState(
        SimConfig(auto_orgs=True, today="2026-11-20"))
    for st in (serial, parallel):
        for org in orgs:
            st.set_org(org, seats=3)
    one = prerender(serial, [DAY], orgs[:1])
    many = prerender(parallel, [DAY], orgs)
    assert one["helpers"] == 1 and many["helpers"] == min(os.cpu_count() or 1, 4)
    assert many["files"] == 5 * len(orgs) == len(parallel.rendered)
    key = next(iter(serial.rendered))
    assert parallel.rendered[key] == serial.rendered[key]
