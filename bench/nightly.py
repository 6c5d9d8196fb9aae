"""Nightly schedule for N connected teams through a real Dagster instance and the daemon's run queue.

    python -m bench.nightly --teams 200 --latency-ms 50

Path (the same code the daemon's scheduler runs, nothing in-process executes a run):
1. temp DAGSTER_HOME with the repo's dagster.yaml (QueuedRunCoordinator, max_concurrent_runs 4, pool
   default_limit 4), SQLite app store seeded with N connected teams (orgs of 50 seats, flag on, onboarding
   complete, 'no report' history so the gap detector sees the steady state), dynamic `teams` partitions;
2. the GitHub simulator as a subprocess (auto_orgs, latency_ms = L on every request and download);
3. `copilot_nightly_sync` evaluated for today's 04:45 UTC tick (``evaluate_tick``);
4. a `WorkspaceProcessContext` on workspace.yaml (a gRPC code server, as the daemon uses) creates each run
   with the scheduler's own ``_create_scheduler_run`` and ``instance.submit_run`` → QUEUED;
5. `dagster-daemon run` (subprocess) dequeues them (run queue limits + pools) and launches each run
   worker with the DefaultRunLauncher; the bench waits until every run is finished.
Environment variables (COPILOT_FLOW_*, DAGSTER_HOME) reach the code server, daemon and run workers.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    ROOT,
    bench_home,
    cpu_seconds,
    emit,
    load_context,
    log,
    machine,
    nightly_tick,
    seed_teams,
    sim_stats,
    start_sim_subprocess,
    stdout_to_stderr,
    stop_proc,
    summarize_peaks,
)

DONE = {"SUCCESS", "FAILURE", "CANCELED"}
CLK = os.sysconf("SC_CLK_TCK")


class ProcSampler(threading.Thread):
    """Samples utime+stime of every descendant of this process (except excluded pids) from /proc,
    keeping each process's last value: a cross-check for rusage (loses < one interval per process)."""

    def __init__(self, exclude: set[int], interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.exclude = exclude
        self.interval = interval
        self.seen: dict[tuple[int, int], float] = {}
        self.kind: dict[tuple[int, int], str] = {}
        self.cmd: dict[tuple[int, int], str] = {}
        self.hwm: dict[tuple[int, int], float] = {}  # peak RSS (VmHWM, MB) of run and step workers
        self.stop_event = threading.Event()

    def _snapshot(self) -> None:
        me = os.getpid()
        parent: dict[int, int] = {}
        cpu: dict[int, tuple[int, float]] = {}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                rest = _stat_fields(int(name))
            except OSError:
                continue
            pid = int(name)
            parent[pid] = int(rest[1])
            cpu[pid] = (int(rest[19]), (int(rest[11]) + int(rest[12])) / CLK)  # starttime, utime+stime
        for pid, (start, secs) in cpu.items():
            p, hops = pid, 0
            while p not in (0, 1, me) and p not in self.exclude and hops < 50:
                p, hops = parent.get(p, 0), hops + 1
            if p == me and pid != me:
                self.seen[(pid, start)] = secs
                if self.kind.get((pid, start)) in ("run_worker", "step_worker"):
                    self.hwm[(pid, start)] = max(self.hwm.get((pid, start), 0), _vm_hwm_mb(pid))
                kind = self.kind.get((pid, start), "other")
                if kind in ("other", "code_server") or kind.startswith("unknown"):
                    cmd = _cmdline(pid)  # a forked child shows its parent's cmdline at first
                    if cmd or (pid, start) not in self.kind:  # an exited child (a zombie) has none: keep its kind
                        self.kind[(pid, start)] = _kind(pid) if cmd else f"unknown:{_comm(pid)}"
                        self.cmd[(pid, start)] = cmd[:160]

    def run(self) -> None:
        while not self.stop_event.is_set():
            self._snapshot()
            self.stop_event.wait(self.interval)

    def total(self) -> float:
        return round(sum(self.seen.values()), 1)

    def of_pids(self, pids: set[int]) -> float:
        return round(sum(secs for (pid, _), secs in self.seen.items() if pid in pids), 1)

    def stop_leftovers(self) -> list[int]:
        """SIGTERM every descendant still alive (a code server the daemon started outlives it when the daemon is
        stopped, and would skew the next bench on this machine), SIGKILL what is left after 15 s (a code server
        waits up to 60 s for RPC calls on SIGTERM). Returns their pids."""
        import signal

        def alive(pid: int, start: int) -> bool:
            try:
                fields = _stat_fields(pid)
                return int(fields[19]) == start and fields[0] != "Z"
            except (OSError, ValueError, IndexError):
                return False

        left = [(pid, start) for pid, start in list(self.seen) if alive(pid, start)]
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid, start in left:
                if alive(pid, start):
                    try:
                        os.kill(pid, sig)
                    except OSError:
                        pass
            deadline = time.monotonic() + 15
            while sig == signal.SIGTERM and time.monotonic() < deadline and any(alive(p, s) for p, s in left):
                time.sleep(0.2)
        return [pid for pid, _ in left]

    def top_other(self, n: int = 5) -> list[tuple[str, float]]:
        """The command lines of the descendants counted as "other", by CPU: what they are."""
        other = [(self.cmd.get(k, "?"), round(secs, 1)) for k, secs in self.seen.items() if self.kind[k] == "other"]
        return sorted(other, key=lambda x: -x[1])[:n]

    def by_kind(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for k, secs in self.seen.items():
            out[self.kind[k]] = round(out.get(self.kind[k], 0.0) + secs, 1)
        return out


def _stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name: [0] state, [1] ppid, [11] utime, [12] stime, [19] starttime
    (clock ticks). Raises OSError when the process is gone."""
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()


def _proc_cpu_s(pid: int) -> float:
    """utime + stime of one live process, from /proc."""
    rest = _stat_fields(pid)
    return (int(rest[11]) + int(rest[12])) / CLK


def prerender_reports(url: str, requests: list[Any], orgs: list[str]) -> dict[str, Any]:
    """Has the simulator render, before the window, the report files of every day the run requests cover
    (``/_sim/prerender``): real GitHub serves ready files from blob storage and costs this host nothing."""
    import httpx

    from copilot_assets.jobs import DATES_TAG

    days: set[str] = set()
    for rr in requests:
        first, last = (date.fromisoformat(x) for x in rr.tags[DATES_TAG].split(".."))
        days |= {(first + timedelta(days=k)).isoformat() for k in range((last - first).days + 1)}
    t = time.monotonic()
    r = httpx.post(f"{url}/_sim/prerender", json={"days": sorted(days), "orgs": orgs}, timeout=3600)
    r.raise_for_status()
    return {**r.json(), "days": sorted(days), "wall_s": round(time.monotonic() - t, 1)}


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _vm_hwm_mb(pid: int) -> float:
    """A process's peak resident set so far (VmHWM), MB; 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as fh:
            return fh.read().strip()
    except OSError:
        return "?"


def _kind(pid: int) -> str:
    cmd = _cmdline(pid)
    if not cmd:
        return "unknown"
    for needle, name in (("execute_run", "run_worker"), ("execute_step", "step_worker"),
                         ("multiprocessing", "step_worker"),
                         ("dagster-daemon", "daemon"), ("grpc", "code_server"), ("api", "dagster_api")):
        if needle in cmd:
            return name
    return "other"


def _run_worker_pid(instance: Any, run_id: str) -> int | None:
    """The pid of a run's worker process, from its "Started process for run (pid: N)." engine event."""
    import dagster as dg

    for rec in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        found = re.search(r"Started process for run \(pid: (\d+)\)", rec.message or "")
        if found:
            return int(found.group(1))
    return None


def pool_limit() -> int:
    import yaml

    cfg = yaml.safe_load((Path(os.environ["DAGSTER_HOME"]) / "dagster.yaml").read_text())
    return int(((cfg.get("concurrency") or {}).get("pools") or {}).get("default_limit") or 1)


def wait_for_daemon(instance: Any, proc: subprocess.Popen, timeout: float = 120) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"dagster-daemon exited with {proc.returncode}")
        if "QUEUED_RUN_COORDINATOR" in instance.get_daemon_heartbeats():
            return time.monotonic() - t0
        time.sleep(0.5)
    raise RuntimeError("dagster-daemon did not heartbeat")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.nightly", description=__doc__.splitlines()[0])
    ap.add_argument("--teams", type=int, default=200)
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--seats", type=int, default=50)
    ap.add_argument("--fresh", action="store_true", help="no history: every team also gets a gap-fill run")
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--pg", action="store_true",
                    help="Dagster instance (dagster.postgres.yaml) and app store on fresh PostgreSQL databases")
    ap.add_argument("--no-prerender", action="store_true",
                    help="the simulator draws each report file when it is downloaded (its CPU inside the window)")
    args = ap.parse_args(argv)

    out: dict[str, Any] = {"bench": "nightly", "teams": args.teams, "latency_ms": args.latency_ms,
                           "seats_per_org": args.seats, "storage": "postgres" if args.pg else "sqlite",
                           "machine": machine(), "load_start": load_context()}
    with stdout_to_stderr(), bench_home(pg=args.pg) as tmp:
        sim, url = start_sim_subprocess({"auto_orgs": True, "latency_ms": args.latency_ms}, tmp)
        os.environ["COPILOT_FLOW_GITHUB_API_URL"] = url
        if args.seats != 50:
            import httpx
            for i in range(args.teams):
                from bench.common import org_login
                httpx.post(f"{url}/_sim/orgs/{org_login(i)}", json={"seats": args.seats}).raise_for_status()
        import dagster as dg
        import dagster._daemon  # imports dagster._scheduler in the right order
        from dagster._core.definitions.selector import JobSubsetSelector
        from dagster._core.workspace.context import WorkspaceProcessContext
        from dagster._core.workspace.load_target import WorkspaceFileTarget
        from dagster._scheduler.scheduler import _create_scheduler_run

        from copilot_assets.partitions import TEAMS_PARTITION_NAME
        from copilot_flow.local_runs import schedule_tick
        from definitions import defs
        from resources.app_store import store_for

        t = time.monotonic()
        store = store_for()
        slugs = seed_teams(store, args.teams, history_days=0 if args.fresh else 40)
        instance = dg.DagsterInstance.get()
        instance.add_dynamic_partitions(TEAMS_PARTITION_NAME, slugs)
        out["seed_s"] = round(time.monotonic() - t, 1)
        log(f"seeded {args.teams} teams in {out['seed_s']}s")

        tick = nightly_tick()
        t = time.monotonic()
        data = schedule_tick(defs, instance, "copilot_nightly_sync", tick)
        out["schedule_tick_s"] = round(time.monotonic() - t, 2)
        requests = list(data.run_requests or [])
        if not requests:
            raise SystemExit(f"schedule skipped: {data.skip_message}")
        out["run_requests"] = len(requests)
        out["run_requests_by_trigger"] = {}
        for rr in requests:
            trig = rr.tags.get("copilot/trigger", "?")
            out["run_requests_by_trigger"][trig] = out["run_requests_by_trigger"].get(trig, 0) + 1

        if not args.no_prerender:  # GitHub has its report files ready; drawing them is the simulator's cost
            from bench.common import org_login

            out["simulator_prerender"] = prerender_reports(url, requests, [org_login(i) for i in range(args.teams)])
            log(f"simulator rendered {out['simulator_prerender']['files']} report files "
                f"({out['simulator_prerender']['bytes'] / 1e6:.0f} MB) in {out['simulator_prerender']['cpu_s']} CPU-s")

        env = dict(os.environ)
        log_path = Path(tmp) / "daemon.log"
        sampler = ProcSampler(exclude={sim.pid})
        sampler.start()
        t_daemon = time.monotonic()
        with open(log_path, "wb") as log_f:
            daemon = subprocess.Popen(
                [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", str(ROOT / "workspace.yaml")],
                cwd=ROOT, env=env, stdout=log_f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wpc = None
        try:
            wpc = WorkspaceProcessContext(instance, WorkspaceFileTarget(paths=[str(ROOT / "workspace.yaml")]))
            req_ctx = wpc.create_request_context()
            loc_name = next(iter(req_ctx.get_code_location_entries()))
            loc = req_ctx.get_code_location(loc_name)
            repo = next(iter(loc.get_repositories().values()))
            remote_schedule = repo.get_schedule("copilot_nightly_sync")
            out["daemon_ready_s"] = round(wait_for_daemon(instance, daemon) + 0, 1)
            log(f"daemon up after {time.monotonic() - t_daemon:.1f}s; submitting {len(requests)} runs")

            out["load_at_submit"] = load_context()
            sim_cpu_t0 = _proc_cpu_s(sim.pid)
            t0 = time.time()
            run_ids: list[str] = []
            jobs: dict[frozenset, Any] = {}
            for rr in requests:
                sel = frozenset(rr.asset_selection or [])
                if sel not in jobs:
                    jobs[sel] = loc.get_job(JobSubsetSelector(
                        location_name=loc_name, repository_name=repo.name, job_name=remote_schedule.job_name,
                        op_selection=None, asset_selection=list(sel)))
                run = _create_scheduler_run(instance, tick, loc, remote_schedule, jobs[sel], rr)
                instance.submit_run(run.run_id, req_ctx)
                run_ids.append(run.run_id)
            out["submit_s"] = round(time.time() - t0, 2)
            log(f"submitted {len(run_ids)} runs in {out['submit_s']}s; waiting")

            deadline = time.monotonic() + args.timeout
            last = ""
            while True:
                recs = instance.get_run_records(filters=dg.RunsFilter(run_ids=run_ids))
                statuses = [r.dagster_run.status.value for r in recs]
                n_done = sum(1 for s in statuses if s in DONE)
                msg = f"{n_done}/{len(run_ids)} finished, {statuses.count('STARTED')} started"
                if msg != last:
                    log(msg)
                    last = msg
                if n_done == len(run_ids):
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(f"timeout: {msg}")
                time.sleep(1.0)
            sim_cpu_window = round(_proc_cpu_s(sim.pid) - sim_cpu_t0, 1)
            t_end = max((r.end_time or time.time()) for r in recs)
            out["wall_s"] = round(t_end - t0, 1)
            out["load_end"] = load_context()
            out["runs_launched"] = len(run_ids)
            out["run_status"] = {s: statuses.count(s) for s in sorted(set(statuses))}
            durs = sorted((r.end_time or 0) - (r.start_time or 0) for r in recs if r.start_time)
            out["run_duration_s"] = {"min": round(durs[0], 1), "median": round(durs[len(durs) // 2], 1),
                                     "max": round(durs[-1], 1)} if durs else {}
            others = [r for r in instance.get_run_records() if r.dagster_run.run_id not in set(run_ids)]
            out["other_runs_launched_meanwhile"] = {  # e.g. copilot_insights_automation reacting to the sync
                "count": len(others),
                "by_job_and_status": {f"{j}:{s}": sum(1 for r in others if (r.dagster_run.job_name,
                                      r.dagster_run.status.value) == (j, s))
                                      for j, s in {(r.dagster_run.job_name, r.dagster_run.status.value)
                                                   for r in others}},
                "tags_sensor": sorted({r.dagster_run.tags.get("dagster/sensor_name", "") for r in others}),
            }
            worker_pids = {r.dagster_run.run_id: _run_worker_pid(instance, r.dagster_run.run_id)
                           for r in [*recs, *others]}
            failed = [r for r in recs if r.dagster_run.status.value == "FAILURE"]
            if failed:
                out["first_failed_run"] = failed[0].dagster_run.run_id
        finally:
            stop_proc(daemon, timeout=60)
            if wpc is not None:
                wpc.__exit__(None, None, None)
            sampler.stop_event.set()
            sampler.join()
            leftovers = sampler.stop_leftovers()
            if leftovers:
                log(f"stopped {len(leftovers)} leftover process(es): {leftovers}")

        cpu_children = cpu_seconds(resource.RUSAGE_CHILDREN)
        stats = sim_stats(url)
        stop_proc(sim)
        cpu_sim = cpu_seconds(resource.RUSAGE_CHILDREN) - cpu_children
        out.update(summarize_peaks(stats))
        team_days = args.teams * 3
        dagster_cpu = max(cpu_children, sampler.total())
        kinds = sampler.by_kind()
        out["cpu_s"] = {
            "descendants_sampled": sampler.total(),
            "descendants_by_kind": kinds,
            "other_top": sampler.top_other(),
            "reaped_children_rusage": round(cpu_children, 1),
            "simulator": round(cpu_sim, 1),
            "simulator_in_window": sim_cpu_window,  # from the first submission until every run finished
            "bench_process": round(cpu_seconds(resource.RUSAGE_SELF), 1),
        }
        out["team_days"] = team_days
        out["cpu_ms_per_team_day"] = round(1000 * dagster_cpu / team_days, 1)
        work = kinds.get("run_worker", 0.0) + kinds.get("step_worker", 0.0)
        out["cpu_ms_per_team_day_run_and_step_workers"] = round(1000 * work / team_days, 1)
        sync_pids = {worker_pids[r] for r in run_ids} - {None}
        other_pids = set(worker_pids.values()) - sync_pids - {None}
        out["cpu_s"]["sync_run_workers"] = sampler.of_pids(sync_pids)  # the nightly's own runs
        out["sync_run_worker_peak_rss_mb"] = max((mb for (pid, _), mb in sampler.hwm.items() if pid in sync_pids),
                                                 default=None)
        out["cpu_s"]["other_run_workers"] = sampler.of_pids(other_pids)  # insights/report runs meanwhile
        out["cpu_ms_per_team_day_sync_run_workers"] = round(1000 * out["cpu_s"]["sync_run_workers"] / team_days, 1)
        concurrency = pool_limit() * 8  # pool slots × team threads per step (sync_team_days max_parallel_teams)
        bound = out["github_calls"] * args.latency_ms / 1000 / concurrency
        out["allowed_concurrency"] = concurrency
        out["latency_bound_s"] = round(bound, 2)
        out["ratio_to_latency_bound"] = round(out["wall_s"] / bound, 1) if bound else None
        out["github_calls_per_team"] = round(out["github_calls"] / args.teams, 2)
        out["daemon_log_tail"] = log_path.read_text(errors="replace")[-600:] if out["run_status"].get(
            "FAILURE") else None
    emit(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
