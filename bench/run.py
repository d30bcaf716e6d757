"""`make bench`: what the system adds on top of the physical floor of a run (LLM latency + CPU).

1. Starts its own stack, each part a separate process as in production (bench/stack.py).
2. Phase 1, one client: 2 warm-up runs, then `--single-runs` runs one after the other, POST to the `end` event.
3. Phase 2, load: `--n` improvements from `--clients` concurrent clients (POST, follow the events, repeat),
   with the CPU time of every process measured over the phase and RSS sampled every 0.2 s.
4. Reads the workflow histories: the render activity's own time, history size, queueing vs running per step.
5. Phase 3, Stripe webhooks (bench/webhooks.py): `--webhook-events` signed events from `--webhook-senders`
   concurrent senders to POST /webhooks/stripe, their latency, and a check that each was applied exactly once.
6. Prints each figure next to its target and writes them all to bench/results/latest.json.

Exit code 0 even when a target is missed (it is a measurement); 1 if runs failed (or webhook events were refused
or not applied exactly once); 2 if the stack did not start.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import sys
import time
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psutil

from bench.client import (
    BENCH_PLAN,
    JOB_PATH,
    BenchUser,
    RunResult,
    create_users,
    grant_bench_plan,
    run_load,
    run_sequential,
    target_body,
)
from bench.history import analyse, read_histories
from bench.load import add_arguments as add_load_arguments
from bench.load import run_load_test
from bench.probes import Probes
from bench.procs import CpuMark, Group, Monitor, kill_leftovers, tail
from bench.report import MB, evaluate_targets, render_report, targets_json
from bench.stack import ROOT, TASK_QUEUE, Stack, StackConfig, StackError
from bench.stats import summary
from bench.webhooks import WebhookConfig, run_webhooks
from devstack.services import DevStackError

BENCH_DIR = Path(__file__).resolve().parent
CV_PATH = BENCH_DIR / "cv-2-pages.md"
RESULTS_PATH = BENCH_DIR / "results" / "latest.json"
LOG_DIR = ROOT / ".dev" / "bench-logs"
WARMUP_RUNS = 2

EXIT_OK, EXIT_RUNS_FAILED, EXIT_STACK_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 130

T = TypeVar("T")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=2.0, help="latency L of the fake LLM, seconds (2.0)")
    parser.add_argument("--n", type=int, default=200, help="improvements in the load phase (200)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients in the load phase (50)")
    parser.add_argument("--single-runs", type=int, default=10, help="measured one-at-a-time runs (10)")
    parser.add_argument("--keep-logs", action="store_true", help=f"keep the child processes' logs in {LOG_DIR}")
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=0,
        help="niceness added to the whole worker process (0: only its render processes run at +5, as in production)",
    )
    parser.add_argument(
        "--render-processes", type=int, default=None, help="RENDER_PROCESSES for the worker (default: its own)"
    )
    parser.add_argument("--run-timeout", type=float, default=300.0, help="seconds one run may take (300)")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        help="before each phase, wait up to this many seconds for other processes to leave the CPU (0)",
    )
    parser.add_argument("--no-webhooks", action="store_true", help="skip phase 3, the Stripe webhooks")
    parser.add_argument("--webhook-events", type=int, default=1000, help="signed Stripe events sent in phase 3 (1000)")
    parser.add_argument("--webhook-senders", type=int, default=100, help="concurrent webhook senders in phase 3 (100)")
    parser.add_argument(
        "--webhook-users",
        type=int,
        default=None,
        help="subscribed users whose billing cycles make the events (default: as many as senders)",
    )
    add_load_arguments(parser)
    args = parser.parse_args(argv)
    if args.users < 1 or args.duration <= 0 or args.ramp < 0:
        parser.error("--users must be at least 1, --duration above 0, --ramp >= 0")
    if args.webhook_users is None:
        args.webhook_users = args.webhook_senders
    if min(args.webhook_events, args.webhook_senders, args.webhook_users) < 1:
        parser.error("--webhook-events, --webhook-senders and --webhook-users must be at least 1")
    if args.n < 1 or args.clients < 1 or args.single_runs < 1 or args.latency < 0 or args.worker_nice < 0:
        parser.error("--n, --clients and --single-runs must be at least 1; --latency and --worker-nice >= 0")
    return args


def say(message: str) -> None:
    print(message, flush=True)


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


async def guarded(stack: Stack, work: Awaitable[T]) -> T:
    """Await `work`, but stop at once with the reason if a process of the stack dies meanwhile."""
    task = asyncio.ensure_future(work)
    while True:
        done, _ = await asyncio.wait({task}, timeout=0.5)
        if done:
            return task.result()
        dead = stack.stopped_unexpectedly()
        if dead:
            task.cancel()
            raise StackError("a process of the stack died during the bench:\n" + "\n".join(dead))


async def others_cores(monitor: Monitor, seconds: float = 1.0) -> float:
    """Cores' worth of CPU used over `seconds` by processes that are not part of the bench."""
    start = monitor.mark()
    await asyncio.sleep(seconds)
    end = monitor.mark()
    ours = sum(Monitor.cpu_between(start, end).values())
    return max(0.0, end.machine_busy - start.machine_busy - ours) / max(1e-6, end.at - start.at)


async def wait_quiet(monitor: Monitor, max_wait: float, threshold: float = 0.2) -> float:
    """Measure what other processes use; wait (up to `max_wait` s) until it is under `threshold` cores."""
    deadline = time.monotonic() + max_wait
    others = await others_cores(monitor)
    if others >= threshold and max_wait > 0:
        say(f"  other processes use {others:.2f} cores; waiting up to {max_wait:.0f} s for a quiet machine ...")
        while others >= threshold and time.monotonic() < deadline:
            others = await others_cores(monitor, 2.0)
    if others >= threshold:
        say(f"  warning: other processes use {others:.2f} cores of {cores()}; the figures will suffer")
    return others


async def count_llm_calls(llm_url: str) -> int | None:
    """Chat completions the fake LLM answered (it records every request)."""
    base = llm_url.removesuffix("/v1")
    try:
        async with httpx.AsyncClient(timeout=30.0) as http:
            response = await http.get(f"{base}/_control/requests")
            response.raise_for_status()
            return sum(1 for r in response.json() if str(r.get("path", "")).endswith("chat/completions"))
    except (httpx.HTTPError, ValueError, AttributeError):
        return None


def cpu_breakdown(start: CpuMark, end: CpuMark, worker_pid: int) -> dict[str, float]:
    """CPU seconds between two marks, the worker split into its main process and its children."""
    used = Monitor.cpu_between(start, end)
    worker_main = end.per_pid["worker"].get(worker_pid, 0.0) - start.per_pid["worker"].get(worker_pid, 0.0)
    return {
        "worker_main": worker_main,
        "worker_children": used.get("worker", 0.0) - worker_main,
        "api": used.get("api", 0.0),
        "temporal": used.get("temporal", 0.0),
        "llm_fake (not counted)": used.get("llm_fake", 0.0),
        "bench_client (not counted)": used.get("bench_client", 0.0),
        "postgres (not counted)": used.get("postgres", 0.0),
        "redis (not counted)": used.get("redis", 0.0),
    }


def run_figures(results: list[RunResult]) -> dict[str, Any]:
    ok = [r for r in results if r.completed]
    return {
        "runs": len(results),
        "completed": len(ok),
        "failed": len(results) - len(ok),
        "e2e_s": summary([r.e2e_s for r in ok if r.e2e_s is not None]),
        "post_ms": summary([r.post_ms for r in results if r.post_ms is not None], 1),
    }


def run_rows(results: list[RunResult]) -> list[dict[str, Any]]:
    """Each run in short: client, POST latency, end-to-end time, final stage."""
    return [
        {
            "index": r.index,
            "client": r.client,
            "post_ms": None if r.post_ms is None else round(r.post_ms, 1),
            "e2e_s": None if r.e2e_s is None else round(r.e2e_s, 3),
            "stage": r.stage,
        }
        for r in results
    ]


def failures(results: list[RunResult]) -> list[dict[str, Any]]:
    return [
        {"phase": r.phase, "index": r.index, "workflow_id": r.workflow_id, "stage": r.stage, "error": r.error}
        for r in results
        if not r.completed
    ]


def rss_figures(peaks: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    wanted = (
        "worker",
        "worker_main",
        "worker_largest_child",
        "worker_pss",
        "api",
        "temporal",
        "llm_fake",
        "stripe_fake",
        "bench_client",
        "redis",
    )
    return {
        phase: {name: round(values[name] / MB, 1) for name in wanted if name in values}
        for phase, values in peaks.items()
        if phase in ("single", "load", "webhooks")
    }


async def bench(args: argparse.Namespace) -> int:
    main_task = asyncio.current_task()
    if main_task is not None:  # SIGTERM stops the bench as Ctrl-C does: the stack is stopped in order
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    if LOG_DIR.exists():
        shutil.rmtree(LOG_DIR)
    LOG_DIR.mkdir(parents=True)
    latency = float(args.latency)
    cv_data = CV_PATH.read_bytes()
    target = target_body()
    stack = Stack(
        StackConfig(
            latency=latency, log_dir=LOG_DIR, worker_nice=args.worker_nice, render_processes=args.render_processes
        ),
        say=say,
    )
    monitor: Monitor | None = None
    http: httpx.AsyncClient | None = None
    code = EXIT_STACK_FAILED
    try:
        say(f"Starting the stack (logs in {LOG_DIR}) ...")
        t0 = time.perf_counter()
        try:
            await stack.start()
        except (StackError, DevStackError) as exc:
            say(f"the stack did not start: {exc}")
            return EXIT_STACK_FAILED
        except Exception as exc:
            say(f"the stack did not start: {type(exc).__name__}: {exc}")
            return EXIT_STACK_FAILED
        startup_s = time.perf_counter() - t0
        for name, description in stack.descriptions.items():
            say(f"  {name:9} {description}")
        say(f"  stack up in {startup_s:.1f} s")
        assert stack.worker is not None and stack.api is not None and stack.llm is not None
        assert stack.stripe is not None
        assert stack.temporal is not None and stack.temporal.pid is not None

        groups = [
            Group("worker", stack.worker.pid, children=True),
            Group("api", stack.api.pid, children=True),
            Group("temporal", stack.temporal.pid, children=True),
            Group("llm_fake", stack.llm.pid, children=True),
            Group("stripe_fake", stack.stripe.pid, children=True),
            Group("bench_client", os.getpid()),
        ]
        if stack.postgres_pid:
            groups.append(Group("postgres", stack.postgres_pid, children=True))
        if stack.redis_pid:
            groups.append(Group("redis", stack.redis_pid))
        monitor = Monitor(groups)
        monitor.start()

        http = httpx.AsyncClient(
            base_url=stack.api_url,
            timeout=httpx.Timeout(60.0),
            limits=httpx.Limits(max_connections=args.clients + 10, max_keepalive_connections=args.clients + 10),
        )
        say(f"Creating {args.clients} users (plan '{BENCH_PLAN}') and uploading {CV_PATH.name} ...")
        users: list[BenchUser] = await guarded(stack, create_users(http, args.clients, CV_PATH.name, cv_data))
        await grant_bench_plan(stack.database_url, [u.email for u in users])

        quiet_before_single = await wait_quiet(monitor, args.wait_quiet)
        monitor.set_phase("single")
        say(f"Phase 1: {WARMUP_RUNS} warm-up runs, then {args.single_runs} runs one after the other ...")
        warmup = await guarded(
            stack, run_sequential(http, users[0], target, WARMUP_RUNS, phase="warmup", timeout=args.run_timeout)
        )
        if not any(r.completed for r in warmup):
            say("the warm-up runs failed; stopping here:")
            for failure in failures(warmup):
                say(f"  {failure}")
            say(f"worker log tail:\n{tail(stack.worker.log_path)}")
            code = EXIT_RUNS_FAILED
            return code
        temporal = await stack.temporal_client()
        single_probes = Probes(stack.api_url, stack.database_url, temporal)
        await single_probes.start()
        single_start = monitor.mark()
        try:
            single = await guarded(
                stack,
                run_sequential(http, users[0], target, args.single_runs, phase="single", timeout=args.run_timeout),
            )
        finally:
            single_end = monitor.mark()
            await single_probes.stop()
        say(f"  single runs: {sum(r.completed for r in single)}/{len(single)} completed")

        say(f"Phase 2: {args.n} improvements from {args.clients} concurrent clients ...")
        quiet_before_load = await wait_quiet(monitor, args.wait_quiet)
        monitor.set_phase("load")
        probes = Probes(stack.api_url, stack.database_url, temporal)
        await probes.start()
        mark_start = monitor.mark()
        try:
            load = await guarded(
                stack, run_load(http, users, target, n=args.n, clients=args.clients, timeout=args.run_timeout)
            )
        finally:
            mark_end = monitor.mark()
            await probes.stop()
        monitor.set_phase("after")
        completed = [r for r in load if r.completed]
        by_start = sorted(load, key=lambda r: r.post_start)
        first_wave, later = by_start[: args.clients], by_start[args.clients :]
        say(f"  load runs: {len(completed)}/{len(load)} completed")

        say("Reading the workflow histories ...")
        single_history = analyse(await read_histories(temporal, [r.workflow_id for r in single if r.workflow_id]))
        load_history = analyse(await read_histories(temporal, [r.workflow_id for r in load if r.workflow_id]))
        llm_calls = await count_llm_calls(stack.llm_url)
        runs_started = sum(1 for r in [*warmup, *single, *load] if r.workflow_id)

        webhooks: dict[str, Any] | None = None
        webhooks_ok = True
        if not args.no_webhooks:
            say(
                f"Phase 3: {args.webhook_events} Stripe webhook events from {args.webhook_senders} concurrent "
                f"senders ({args.webhook_users} subscribed users) ..."
            )
            await wait_quiet(monitor, args.wait_quiet)
            monitor.set_phase("webhooks")
            webhooks, webhooks_ok = await guarded(
                stack,
                run_webhooks(
                    config=WebhookConfig(
                        events=args.webhook_events, senders=args.webhook_senders, users=args.webhook_users
                    ),
                    api_url=stack.api_url,
                    stripe_url=stack.stripe_url,
                    secret=stack.stripe_webhook_secret,
                    database_url=stack.database_url,
                    temporal=temporal,
                    monitor=monitor,
                    say=say,
                ),
            )
            monitor.set_phase("after")

        # -- figures
        n = args.n
        starts = [r.post_start for r in load]
        ends = [r.end for r in load if r.end is not None]
        makespan = max(ends) - min(starts) if ends and starts else None
        used = Monitor.cpu_between(mark_start, mark_end)
        seconds = cpu_breakdown(mark_start, mark_end, stack.worker.pid)
        machine_busy = mark_end.machine_busy - mark_start.machine_busy
        machine_total = mark_end.machine_total - mark_start.machine_total
        phase_wall = mark_end.at - mark_start.at
        others_cpu = max(0.0, machine_busy - sum(used.values()))
        counted = used.get("worker", 0.0) + used.get("api", 0.0) + used.get("temporal", 0.0)
        with_datastores = counted + used.get("postgres", 0.0) + used.get("redis", 0.0)
        n_cores = cores()
        t_cpu = counted / n
        t_cpu_ds = with_datastores / n
        ideal = max(latency + t_cpu, n * t_cpu / n_cores)
        ideal_ds = max(latency + t_cpu_ds, n * t_cpu_ds / n_cores)
        render_processes = args.render_processes or int(os.environ.get("RENDER_PROCESSES") or n_cores)
        priorities = (
            f"worker at nice +{args.worker_nice}, its render processes 5 above it (they lower their own priority), "
            "so the API and the worker's event loop keep answering while renders use the cores"
            if args.worker_nice
            else "every process at nice 0 (--worker-nice 0)"
        )
        figures: dict[str, Any] = {
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {
                "cores": n_cores,
                "cpu": cpu_model(),
                "memory_mb": round(psutil.virtual_memory().total / MB),
                "python": platform.python_version(),
                "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            },
            "config": {
                "latency_s": latency,
                "n": n,
                "clients": args.clients,
                "single_runs": args.single_runs,
                "warmup_runs": WARMUP_RUNS,
                "cores": n_cores,
                "worker_nice": args.worker_nice,
                "render_processes": render_processes,
                "task_queue": TASK_QUEUE,
                "cv": CV_PATH.name,
                "cv_bytes": len(cv_data),
                "job_description": JOB_PATH.name,
                "target": {k: v for k, v in target.items() if k != "job_description"},
                "stack": stack.descriptions,
                "stack_startup_s": round(startup_s, 2),
                "priorities": priorities,
            },
            "warmup": {**run_figures(warmup), "e2e_each_s": [r.e2e_s and round(r.e2e_s, 3) for r in warmup]},
            "single": {**run_figures(single), "e2e_each_s": [r.e2e_s and round(r.e2e_s, 3) for r in single]},
            "single_cpu_ms_per_run": {
                name: round(seconds_used * 1000.0 / args.single_runs, 1)
                for name, seconds_used in cpu_breakdown(single_start, single_end, stack.worker.pid).items()
            },
            "load": {
                **run_figures(load),
                # The clients start together: their first POSTs arrive as one burst; the rest are spread out.
                "post_ms_first_wave": summary([r.post_ms for r in first_wave if r.post_ms is not None], 1),
                "post_ms_after_first_wave": summary([r.post_ms for r in later if r.post_ms is not None], 1),
                "makespan_s": None if makespan is None else round(makespan, 3),
                "throughput_per_s": None if not makespan else round(len(completed) / makespan, 3),
                "failures": failures(load)[:50],
            },
            "cpu": {
                "seconds": {k: round(v, 3) for k, v in seconds.items()},
                "t_cpu_s": round(t_cpu, 4),
                "ideal_s": round(ideal, 3),
                "makespan_over_ideal": None if makespan is None else round(makespan / ideal, 3),
                "t_cpu_with_datastores_s": round(t_cpu_ds, 4),
                "ideal_with_datastores_s": round(ideal_ds, 3),
                "makespan_over_ideal_with_datastores": None if makespan is None else round(makespan / ideal_ds, 3),
                "machine_busy_percent": round(100.0 * machine_busy / machine_total, 1) if machine_total else None,
                "machine_busy_cpu_s": round(machine_busy, 2),
                "machine_steal_percent": (
                    round(100.0 * (mark_end.machine_steal - mark_start.machine_steal) / machine_total, 1)
                    if machine_total
                    else None
                ),
                "other_processes_cpu_s": round(others_cpu, 2),
                "other_processes_cores": round(others_cpu / phase_wall, 2),
                "other_processes_cores_before_single": round(quiet_before_single, 2),
                "other_processes_cores_before_load": round(quiet_before_load, 2),
                "monitor_thread_cpu_s": round(mark_end.monitor_cpu - mark_start.monitor_cpu, 2),
                "phase_wall_s": round(phase_wall, 3),
            },
            "llm": {
                "calls": llm_calls,
                "runs_started": runs_started,
                "calls_per_run": None if llm_calls is None else round(llm_calls / max(1, runs_started), 3),
            },
            "probes_ms": {"single": single_probes.figures(), "load": probes.figures()},
            "runs": {"single": run_rows(single), "load": run_rows(load)},
            "render": {"single": single_history, "load": load_history},
            "rss_mb": rss_figures(monitor.peaks()),
            "monitor_samples": monitor.samples,
        }
        if webhooks is not None:
            figures["config"]["webhooks"] = {
                "events": args.webhook_events,
                "senders": args.webhook_senders,
                "users": args.webhook_users,
            }
            figures["webhooks"] = webhooks
        targets = evaluate_targets(figures)
        figures["targets"] = targets_json(targets)
        RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
        RESULTS_PATH.write_text(json.dumps(figures, indent=2) + "\n")
        say("")
        say(render_report(figures, targets))
        say("")
        say(f"figures written to {RESULTS_PATH}")
        all_runs = [*warmup, *single, *load]
        code = EXIT_OK if all(r.completed for r in all_runs) and webhooks_ok else EXIT_RUNS_FAILED
        if not all(r.completed for r in all_runs):
            say(f"{sum(not r.completed for r in all_runs)} runs did not complete; first failures:")
            for failure in failures(all_runs)[:10]:
                say(f"  {failure}")
        if not webhooks_ok and webhooks is not None:
            say("webhook events were refused or not applied exactly once:")
            for problem in [*webhooks.get("failures", []), *_get_problems(webhooks)][:10]:
                say(f"  {problem}")
        return code
    except StackError as exc:
        say(str(exc))
        return EXIT_STACK_FAILED
    finally:
        if http is not None:
            await http.aclose()
        seen = monitor.processes_seen() if monitor is not None else {}
        if monitor is not None:
            monitor.stop()
        say("Stopping the stack ...")
        stack.stop()
        started_here = {"worker", "api", "temporal", "llm_fake", "stripe_fake"}
        kill_leftovers({p: t for name, pids in seen.items() if name in started_here for p, t in pids.items()}, say)
        if args.keep_logs or code != EXIT_OK:
            say(f"logs kept in {LOG_DIR}")
        else:
            shutil.rmtree(LOG_DIR, ignore_errors=True)


def _get_problems(webhooks: dict[str, Any]) -> list[str]:
    once = webhooks.get("exactly_once") or {}
    return [*([webhooks["error"]] if "error" in webhooks else []), *once.get("problems", [])]


async def load_only(args: argparse.Namespace) -> int:
    """`--load-only`: the load test of bench/load.py on the same stack, logs in the same place."""
    main_task = asyncio.current_task()
    if main_task is not None:  # SIGTERM stops it as Ctrl-C does: the stack is stopped in order
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    shutil.rmtree(LOG_DIR, ignore_errors=True)
    LOG_DIR.mkdir(parents=True)
    code = EXIT_STACK_FAILED
    try:
        code = await run_load_test(
            users=args.users, duration=args.duration, ramp=args.ramp, latency=args.latency, log_dir=LOG_DIR, say=say
        )
        return code
    finally:
        if args.keep_logs or code != EXIT_OK:
            say(f"logs kept in {LOG_DIR}")
        else:
            shutil.rmtree(LOG_DIR, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return asyncio.run(load_only(args) if args.load_only else bench(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        say("interrupted; the stack was stopped")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
