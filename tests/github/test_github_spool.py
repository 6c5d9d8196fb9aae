"""users-28-day streamed into a DaySpool (records held in memory up to a budget, one temp file per day and shard
past it): same records per day as the simulator's generator, sharded, from either tier; bounded memory (measured
with tracemalloc against a simulator in another process, so only the client's allocations are traced); a malformed
shard or a rejected link discards the spool."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta

import httpx
import pytest

from resources.github import DaySpool, GitHubClient, NotReady, iter_shard, parse_shard
from resources.github import spool as spool_mod
from resources.github_errors import DownloadLinkExpired, MalformedReport
from simulators import github_data as data
from simulators.serve import free_port
from tests.github.conftest import TODAY, TOKEN

pytestmark = pytest.mark.slow

END = date.fromisoformat(TODAY) - timedelta(days=1)  # ready_lag_days 1
START = END - timedelta(days=27)


def expected_by_day(org: str, seats: int) -> dict[date, list[dict]]:
    out: dict[date, list[dict]] = defaultdict(list)
    for row in data.users_28_day_rows(org, START, END, seats):
        out[date.fromisoformat(row["day"])].append(row)
    return out


@pytest.fixture
def spool_dir(tmp_path, monkeypatch) -> str:
    """Temp files of this test land in tmp_path (tempfile.tempdir), so leftovers can be counted."""
    path = tmp_path / "spool-tmp"
    path.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    return str(path)


@pytest.fixture
def budget(monkeypatch):
    """Set the spool's memory budget (raw bytes held as parsed records before lines spill to temp files)."""
    def set_budget(n: int) -> None:
        monkeypatch.setattr(spool_mod, "MEMORY_BUDGET_BYTES", n)
    return set_budget


# all in files; spilled part-way (the 120-seat report's ≈ 4.6 MB of lines pass the default 2 MB); all in memory
TIERS = [("files", 0), ("both", None), ("memory", 10**9)]


@pytest.mark.parametrize(("tier", "limit"), TIERS, ids=[t for t, _ in TIERS])
def test_sharded_report_yields_the_generator_records_per_day(sim, make_client, spool_dir, budget, tier, limit):
    _, state = sim
    state.set_org("acme", tokens=[TOKEN], seats=120, shards=3)
    if limit is not None:
        budget(limit)
    c = make_client()
    expected = expected_by_day("acme", 120)
    with c.report_latest_28_by_day("users-28-day") as spool:
        assert isinstance(spool, DaySpool)
        assert (spool.report, spool.start_day, spool.end_day, spool.shards) == ("users-28-day", START, END, 3)
        assert spool.days() == sorted(expected) and len(spool.days()) == 28
        for d in spool.days():
            got = list(spool.records(d))
            assert got == expected[d]  # same records, same order as the unsharded report
        assert spool.record_count == sum(len(v) for v in expected.values())
        assert spool.skipped_without_day == 0
        assert list(spool.records(START - timedelta(days=1))) == []
        assert spool.held_bytes <= spool.memory_budget
        if tier == "memory":
            assert not spool.spilled and spool._dir is None and os.listdir(spool_dir) == []
            assert spool.held_bytes > 4_000_000
        else:
            files = os.listdir(spool._dir)
            assert spool.spilled and files and all(f.endswith(".ndjson") for f in files)
            assert (spool.held_bytes > 1_900_000) if tier == "both" else (spool.held_bytes == 0)
        folder = spool._dir
    assert spool.closed and (folder is None or not os.path.exists(folder))
    assert os.listdir(spool_dir) == []
    with pytest.raises(ValueError, match="closed"):
        list(spool.records(START))
    assert c.calls.rest == 1 and c.calls.downloads == 3


@pytest.mark.parametrize("limit", [0, None], ids=["files", "memory"])
def test_only_the_days_asked_for_are_written(sim, make_client, spool_dir, budget, limit):
    """A nightly needs 3 of the 28 days: the others are counted, never written (nor held)."""
    _, state = sim
    state.set_org("acme", tokens=[TOKEN], seats=120, shards=3)
    if limit is not None:
        budget(limit)
    expected = expected_by_day("acme", 120)
    wanted = [END - timedelta(days=2), END, START - timedelta(days=3)]  # the last one is not in the report
    with make_client().report_latest_28_by_day("users-28-day", keep_days=wanted) as spool:
        assert spool.days() == [END - timedelta(days=2), END]
        for d in spool.days():
            assert list(spool.records(d)) == expected[d]
        assert list(spool.records(START)) == []
        assert spool.record_count == len(expected[END]) + len(expected[END - timedelta(days=2)])
        assert spool.not_kept == sum(len(v) for v in expected.values()) - spool.record_count > 0
        if limit == 0:
            assert {f.split(".")[0] for f in os.listdir(spool._dir)} == {(END - timedelta(days=2)).isoformat(),
                                                                          END.isoformat()}
        else:  # two days of 120 seats fit the default budget: nothing on disk
            assert not spool.spilled and os.listdir(spool_dir) == []
            assert 0 < spool.held_bytes <= spool.memory_budget


def test_user_day_without_login_is_spooled_like_the_others(sim, make_client, spool_dir):
    _, state = sim
    state.set_org("acme", tokens=[TOKEN], seats=60)
    nologin = {d: data.user_without_login("acme", d, 60) for d in (START + timedelta(days=k) for k in range(28))}
    assert any(nologin.values())
    with make_client().report_latest_28_by_day("users-28-day") as spool:
        for d, uid in nologin.items():
            missing = [r["user_id"] for r in spool.records(d) if "user_login" not in r]
            assert missing == ([uid] if uid else [])


@pytest.mark.parametrize(
    ("mode", "why"), [("no_content", "http_204"), ("string_body", "no_report_available"), ("empty_body", "empty_body")]
)
def test_not_ready(sim, make_client, spool_dir, mode, why):
    sim[1].set_org("acme", tokens=[TOKEN], seats=50, faults=[{"mode": mode, "endpoint": "users-28-day"}])
    assert make_client().report_latest_28_by_day("users-28-day") == NotReady("users-28-day", None, why)


def test_only_users_28_day(make_client):
    with pytest.raises(ValueError):
        make_client().report_latest_28_by_day("organization-28-day")


@pytest.mark.parametrize("mode", ["malformed_ndjson", "truncated_shard"])
def test_malformed_shard_discards_the_spool(sim, make_client, spool_dir, mode):
    sim[1].set_org("acme", tokens=[TOKEN], seats=50, shards=3, faults=[{"mode": mode, "endpoint": "users-28"}])
    c = make_client()
    with pytest.raises(MalformedReport) as ei:
        c.report_latest_28_by_day("users-28-day")
    assert "users-28-day: shard 2 line" in str(ei.value) and "sig=" not in str(ei.value)
    assert os.listdir(spool_dir) == []  # nothing left behind
    assert c.calls.rest == 1  # malformed data is not retried (as for every report)


def test_rejected_link_refetches_the_envelope_once(sim, make_client, spool_dir):
    _, state = sim
    state.set_org("acme", tokens=[TOKEN], seats=60, shards=2,
                  faults=[{"mode": "expired_link", "endpoint": "users-28-day", "times": 1}])
    c = make_client()
    with c.report_latest_28_by_day("users-28-day") as spool:
        assert spool.record_count == sum(len(v) for v in expected_by_day("acme", 60).values())
        assert len(os.listdir(spool_dir)) == 1  # the first (rejected) spool is gone
    kinds = [r["endpoint_kind"] for r in state.request_log()]
    assert kinds.count("users-28-day") == 2 and kinds[0] == "users-28-day"
    assert c.calls.rest == 2


def test_rejected_link_twice_is_download_link_expired(sim, make_client, spool_dir):
    sim[1].set_org("acme", tokens=[TOKEN], seats=50, faults=[{"mode": "expired_link", "endpoint": "users-28-day"}])
    c = make_client()
    with pytest.raises(DownloadLinkExpired):
        c.report_latest_28_by_day("users-28-day")
    assert c.calls.rest == 2 and os.listdir(spool_dir) == []


def test_download_5xx_retried(sim, make_client, spool_dir):
    sim[1].set_org("acme", tokens=[TOKEN], seats=50, shards=2, faults=[{"mode": "503", "endpoint": "download",
                                                                       "times": 1}])
    c = make_client()
    with c.report_latest_28_by_day("users-28-day") as spool:
        assert spool.record_count == sum(len(v) for v in expected_by_day("acme", 50).values())
    assert c.calls.downloads == 3 and c.calls.retries == 1


@pytest.mark.parametrize("limit", [0, 120, 10**6], ids=["files", "both", "memory"])
def test_a_retried_shard_replaces_what_its_failed_attempt_wrote(spool_dir, limit):
    lines = [json.dumps({"user_id": i, "day": f"2026-11-0{1 + i % 3}"}) for i in range(9)]
    with DaySpool("users-28-day", None, None, shards=2, memory_budget=limit) as spool:
        spool._write_shard(1, ((ln, json.loads(ln)) for ln in lines[:3]))

        def broken() -> Iterator[tuple[str, dict]]:  # an attempt that dies mid-stream
            yield lines[3], json.loads(lines[3])
            raise OSError("connection reset")

        with pytest.raises(OSError):
            spool._write_shard(0, broken())
        spool._write_shard(0, ((ln, json.loads(ln)) for ln in lines[3:]))  # the retry
        got = {d.isoformat(): [r["user_id"] for r in spool.records(d)] for d in spool.days()}
        assert got == {"2026-11-01": [3, 6, 0], "2026-11-02": [4, 7, 1], "2026-11-03": [5, 8, 2]}
        assert spool.record_count == 9
        # the failed attempt's line no longer counts against the budget: 120 bytes hold 3 of the 9 lines
        # (shard 1's 3 lines, then shard 0 spills at once)
        expected_held = {0: 0, 120: sum(len(ln) + 1 for ln in lines[:3]), 10**6: sum(len(ln) + 1 for ln in lines)}
        assert spool.held_bytes == expected_held[limit]
        assert spool.spilled == (limit != 10**6)


def test_records_without_a_valid_day_are_counted_not_stored(spool_dir):
    recs = [{"user_id": 1, "day": "2026-11-01"}, {"user_id": 2}, {"user_id": 3, "day": "yesterday"},
            {"user_id": 4, "day": None}, {"user_id": 5, "day": "2026-11-01"}]
    with DaySpool("users-28-day", None, None, shards=1) as spool:
        spool._write_shard(0, ((json.dumps(r), r) for r in recs))
        assert spool.days() == [date(2026, 11, 1)]
        assert [r["user_id"] for r in spool.records(date(2026, 11, 1))] == [1, 5]
        assert (spool.record_count, spool.skipped_without_day) == (2, 3)


def test_iter_shard_streams():
    """iter_shard yields records before it reaches a bad line; parse_shard is the same parser as a list."""
    def lines() -> Iterator[str]:
        yield '{"a": 1}'
        yield '{"a": 2}'
        yield "garbage"

    it = iter_shard(lines(), report="users-28-day", shard=0)
    assert next(it) == {"a": 1} and next(it) == {"a": 2}
    with pytest.raises(MalformedReport, match="shard 0 line 3"):
        next(it)
    assert parse_shard(['{"a": 1}', "", '[{"b": 2}]'], report="r", shard=0) == [{"a": 1}, {"b": 2}]


# ---------------------------------------------------------------- memory


@pytest.fixture(scope="module")
def big_sim() -> Iterator[str]:
    """A simulator in its own process (its allocations stay out of this process's tracemalloc)."""
    port = free_port()
    cfg = {"today": TODAY, "orgs": {"bigorg": {"tokens": [TOKEN], "seats": 2000, "shards": 2}}}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(cfg, fh)
    proc = subprocess.Popen([sys.executable, "-m", "simulators.github", "--port", str(port), "--config", fh.name])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url + "/_sim/stats", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("simulator did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        os.unlink(fh.name)


def traced_spool(url: str) -> tuple[GitHubClient, DaySpool | NotReady, int]:
    """bigorg's users-28-day spooled by a client under tracemalloc: (client, spool, peak traced bytes)."""
    c = GitHubClient(base_url=url, token=TOKEN, team="t", org="bigorg", sleep=lambda s: None)
    tracemalloc.start()
    try:
        spool = c.report_latest_28_by_day("users-28-day")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return c, spool, peak


def test_peak_memory_is_bounded_by_one_day_not_the_report(big_sim, spool_dir, budget):
    budget(0)  # the file tier alone (the memory tier adds at most its budget: the next test)
    c, spool, peak = traced_spool(big_sim)
    try:
        assert isinstance(spool, DaySpool) and spool.shards == 2
        # the generator's record count, from its activity bitmaps (cheap)
        days = [START + timedelta(days=k) for k in range(28)]
        assert spool.record_count == sum(sum(data.active_bitmap("bigorg", d, 2000)) for d in days)
        day_bytes = {
            d: sum(os.path.getsize(spool._path(d, k)) for k in range(2) if os.path.exists(spool._path(d, k)))
            for d in days
        }
        report_bytes = sum(day_bytes.values())
        assert report_bytes > 40_000_000  # ≈ 31k records of ≈ 2 KB
        ratio = peak / report_bytes
        assert ratio < 0.05, f"peak {peak} B is {ratio:.1%} of the {report_bytes} B report"
        assert peak < min(day_bytes.values())  # below one day's raw lines
        # reading one day back is lazy too
        tracemalloc.start()
        try:
            n = sum(1 for _ in spool.records(days[10]))
            _, day_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert n == sum(data.active_bitmap("bigorg", days[10], 2000))
        assert day_peak < day_bytes[days[10]] / 10
    finally:
        spool.close()
        c.close()


@pytest.mark.parametrize("mode", ["malformed_ndjson", "truncated_shard"])
def test_a_spool_of_some_days_still_refuses_a_broken_shard(sim, make_client, spool_dir, mode):
    """Lines of other days are skipped unparsed, but garbage or a truncated last line never passes for one."""
    sim[1].set_org("acme", tokens=[TOKEN], seats=50, shards=3, faults=[{"mode": mode, "endpoint": "users-28"}])
    with pytest.raises(MalformedReport, match="users-28-day: shard 2 line"):
        make_client().report_latest_28_by_day("users-28-day", keep_days=[END])
    assert os.listdir(spool_dir) == []


def test_iter_items_skips_unwanted_ndjson_lines_unparsed():
    from resources.github.reports import ShardRef, iter_items

    lines = ['{"day": "2026-11-01", "n": 1}', '{"day": "2026-11-02", "n": 2}', '{"day": "2026-11-03", "n": 3}']
    got = list(iter_items(lines, ShardRef("users-28-day", 0), lambda line: '"2026-11-03' in line))
    # the first line is always parsed (it tells NDJSON from one document); the second is skipped unparsed
    assert got == [(lines[0], {"day": "2026-11-01", "n": 1}), (lines[1], None),
                   (lines[2], {"day": "2026-11-03", "n": 3})]
    pretty = ["[", '{"day": "2026-11-01"}', "]"]  # one document over lines: never filtered line by line
    assert [r for _, r in iter_items(pretty, ShardRef("x", 0), lambda line: False)] == [{"day": "2026-11-01"}]


def test_lines_of_other_days_are_not_parsed_although_each_names_the_last_day(sim, make_client, spool_dir,
                                                                              monkeypatch):
    """Every users-28-day record carries ``report_end_day`` (the latest day, which a nightly keeps): only the
    ``day`` key decides whether a line is parsed."""
    from resources import jsonio
    from resources.github import reports

    _, state = sim
    state.set_org("acme", tokens=[TOKEN], seats=60)
    expected = expected_by_day("acme", 60)
    parsed: list[int] = []
    real_loads = jsonio.loads

    def counting_loads(data):
        parsed.append(1)
        return real_loads(data)

    monkeypatch.setattr(reports.jsonio, "loads", counting_loads)
    with make_client().report_latest_28_by_day("users-28-day", keep_days=[END]) as spool:
        assert list(spool.records(END)) == expected[END]
        assert spool.not_kept == sum(len(v) for v in expected.values()) - len(expected[END])
    # the first line (format detection) and the kept day's lines, once each (held in memory as parsed, not
    # parsed again when read back); not the other 27 days' lines
    assert len(expected[END]) <= len(parsed) <= len(expected[END]) + 1


def test_wants_reads_the_day_key_only():
    day = date(2026, 11, 30)
    with DaySpool("users-28-day", None, None, shards=1, keep_days=[day]) as spool:
        assert spool.wants('{"user_id": 1, "day" : "2026-11-30", "report_end_day": "2026-12-01"}')
        assert spool.wants('{"day":"2026-11-30T00:00:00Z"}')
        assert not spool.wants('{"day":"2026-11-29","report_end_day":"2026-11-30"}')
    with DaySpool("users-28-day", None, None, shards=1, keep_days=[]) as spool:
        assert not spool.wants('{"day":"2026-11-30"}')
    with DaySpool("users-28-day", None, None, shards=1) as spool:
        assert spool.wants('{"day":"2026-11-29"}')


def test_the_memory_tier_adds_at_most_its_budget(big_sim, spool_dir):
    """With the default budget the first 2 MB of lines are held as parsed records and the rest spills: the peak
    is the file tier's plus the records held (≈ 2.5 × their raw bytes as Python dicts: 5.1 MB measured),
    far below the report, and records(day) reads the same as from files."""
    c, spool, peak = traced_spool(big_sim)
    try:
        assert isinstance(spool, DaySpool) and spool.spilled
        assert spool_mod.MEMORY_BUDGET_BYTES - 10_000 < spool.held_bytes <= spool_mod.MEMORY_BUDGET_BYTES
        days = [START + timedelta(days=k) for k in range(28)]
        assert spool.record_count == sum(sum(data.active_bitmap("bigorg", d, 2000)) for d in days)
        assert peak < 4 * spool_mod.MEMORY_BUDGET_BYTES, f"peak {peak} B"
        assert [r["user_id"] for r in spool.records(days[0])] == [
            r["user_id"] for r in data.users_28_day_rows("bigorg", START, END, 2000) if r["day"] == START.isoformat()]
    finally:
        spool.close()
        c.close()
