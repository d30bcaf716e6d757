"""Targets and the printed report, from the figures dictionary that is also written as JSON."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

MB = 1024 * 1024


@dataclass(frozen=True)
class Target:
    name: str
    value: float | None
    limit: float
    unit: str
    shown: str
    wanted: str
    passed: bool


def _get(figures: dict[str, Any], path: str) -> Any:
    node: Any = figures
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def evaluate_targets(figures: dict[str, Any]) -> list[Target]:
    """Each target of `make bench` with its measured value; a missing value is a MISS."""
    latency = float(figures["config"]["latency_s"])
    n = int(figures["config"]["n"])

    def target(
        name: str, value: float | None, limit: float, unit: str, fmt: Callable[[float], str], wanted: str
    ) -> Target:
        shown = "n/a" if value is None else fmt(value)
        passed = value is not None and value <= limit
        return Target(name, value, limit, unit, shown, wanted, passed)

    completed = _num(_get(figures, "load.completed"))
    pages = _num(_get(figures, "render.load.render_pages.p50"))
    page_note = f", {pages:.0f}-page CV" if pages is not None else ""
    targets = [
        target(
            f"single run end to end, p50 of {figures['config']['single_runs']}",
            _num(_get(figures, "single.e2e_s.p50")),
            latency + 0.5,
            "s",
            lambda v: f"{v:.2f} s",
            f"<= L + 0.5 = {latency + 0.5:.2f} s",
        ),
        target(
            f"POST latency p99 under load ({figures['config']['clients']} clients)",
            _num(_get(figures, "load.post_ms.p99")),
            100.0,
            "ms",
            lambda v: f"{v:.0f} ms",
            "<= 100 ms",
        ),
        target(
            "makespan / ideal",
            _num(_get(figures, "cpu.makespan_over_ideal")),
            1.3,
            "x",
            lambda v: f"{v:.2f} x",
            "<= 1.30 x",
        ),
        target(
            f"render_ms p50 (render activity{page_note})",
            _num(_get(figures, "render.load.render_ms.p50")),
            150.0,
            "ms",
            lambda v: f"{v:.0f} ms",
            "<= 150 ms",
        ),
        target(
            "worker peak RSS under load (main + render pool)",
            _num(_get(figures, "rss_mb.load.worker")),
            500.0,
            "MB",
            lambda v: f"{v:.0f} MB",
            f"<= 500 MB with {figures['config']['clients']} in flight",
        ),
        Target(
            "improvements completed under load",
            completed,
            float(n),
            "runs",
            f"{completed or 0:.0f}/{n}",
            "all",
            completed == n and not _get(figures, "load.failed"),
        ),
    ]
    webhooks = figures.get("webhooks")
    if webhooks is not None:
        wanted = figures["config"]["webhooks"]
        targets.append(
            target(
                f"webhook POST p99 ({wanted['events']} events, {wanted['senders']} senders)",
                _num(_get(webhooks, "latency_ms.p99")),
                float(webhooks.get("target_p99_ms", 50.0)),
                "ms",
                lambda v: f"{v:.0f} ms",
                f"<= {webhooks.get('target_p99_ms', 50.0):.0f} ms",
            )
        )
        once = bool(_get(webhooks, "exactly_once.passed")) and webhooks.get("failed") == 0
        delivered = _num(webhooks.get("delivered"))
        targets.append(
            Target(
                "webhook events applied exactly once",
                delivered,
                float(wanted["events"]),
                "events",
                f"{delivered or 0:.0f}/{wanted['events']}"
                + ("" if once else " (see problems)")
                + (f", {_get(webhooks, 'exactly_once.duplicates_sent')} duplicates ignored" if once else ""),
                "each once; duplicates change nothing",
                once,
            )
        )
    return targets


def targets_json(targets: list[Target]) -> list[dict[str, Any]]:
    return [asdict(t) for t in targets]


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    rule = "  ".join("-" * w for w in widths)
    return "\n".join([_row(header, widths), rule, *(_row(r, widths) for r in rows)])


def _f(value: Any, fmt: str = "{:.1f}", unit: str = "") -> str:
    number = _num(value)
    return "n/a" if number is None else fmt.format(number) + unit


def render_report(figures: dict[str, Any], targets: list[Target]) -> str:
    c = figures["config"]
    out: list[str] = []
    out.append(
        f"CV Improver bench: L = {c['latency_s']:g} s, N = {c['n']}, {c['clients']} clients, "
        f"{c['cores']} cores, worker nice +{c['worker_nice']}, render processes {c['render_processes']}"
    )
    others = _num(_get(figures, "cpu.other_processes_cores"))
    steal = _num(_get(figures, "cpu.machine_steal_percent"))
    if steal is not None and steal >= 5.0:
        out.append(f"WARNING: the hypervisor took {steal:.0f}% of this machine's CPU time during the load phase.")
    if others is not None and others >= 0.15:
        out.append(
            f"WARNING: processes outside the bench used {others:.2f} cores on average during the load phase "
            "(tests running alongside?): the figures are pessimistic; run again on a quiet machine."
        )
    out.append("")
    out.append(
        _table(
            ["target", "measured", "wanted", "result"],
            [[t.name, t.shown, t.wanted, "PASS" if t.passed else "MISS"] for t in targets],
        )
    )

    single, load, cpu = figures.get("single", {}), figures.get("load", {}), figures.get("cpu", {})
    out.append("")
    out.append("Latency and throughput")
    out.append(
        _table(
            ["figure", "p50", "p90", "p99", "max"],
            [
                [
                    "single: end to end (s)",
                    *(_f(_get(single, f"e2e_s.{k}"), "{:.3f}") for k in ("p50", "p90", "p99", "max")),
                ],
                ["single: POST (ms)", *(_f(_get(single, f"post_ms.{k}")) for k in ("p50", "p90", "p99", "max"))],
                [
                    "load: end to end (s)",
                    *(_f(_get(load, f"e2e_s.{k}"), "{:.3f}") for k in ("p50", "p90", "p99", "max")),
                ],
                ["load: POST (ms)", *(_f(_get(load, f"post_ms.{k}")) for k in ("p50", "p90", "p99", "max"))],
                [
                    "load: POST, first wave (ms)",
                    *(_f(_get(load, f"post_ms_first_wave.{k}")) for k in ("p50", "p90", "p99", "max")),
                ],
                [
                    "load: POST, after it (ms)",
                    *(_f(_get(load, f"post_ms_after_first_wave.{k}")) for k in ("p50", "p90", "p99", "max")),
                ],
            ],
        )
    )
    out.append(
        f"load: {load.get('completed', 0)} completed, {load.get('failed', 0)} failed; makespan "
        f"{_f(load.get('makespan_s'), '{:.2f}', ' s')}, {_f(load.get('throughput_per_s'), '{:.2f}')} runs/s"
    )

    probes = figures.get("probes_ms") or {}
    if probes:
        out.append("probes, 1 per second (ms): where a slow POST may wait")
        out.append(
            _table(
                ["probe", "phase", "p50", "p90", "p99", "max", "errors"],
                [
                    [
                        name,
                        phase,
                        *(_f(values.get(k)) for k in ("p50", "p90", "p99", "max")),
                        str(values.get("errors", 0)),
                    ]
                    for phase, by_name in probes.items()
                    for name, values in by_name.items()
                ],
            )
        )
    out.append("")
    out.append("CPU over the load phase (user + system seconds; t_cpu counts worker, API and Temporal)")
    seconds = cpu.get("seconds", {})
    alone = figures.get("single_cpu_ms_per_run") or {}
    rows: list[list[str]] = []
    for name, value in seconds.items():
        used = _num(value)
        per_run = None if used is None else used / c["n"] * 1000
        rows.append([name, _f(used, "{:.2f}"), _f(per_run, "{:.1f}"), _f(alone.get(name), "{:.1f}")])
    out.append(_table(["process", "CPU s", "ms per run", "ms per run, single phase"], rows))
    out.append(
        f"t_cpu {_f(cpu.get('t_cpu_s'), '{:.3f}', ' s')} per run; ideal = max(L + t_cpu, N x t_cpu / cores) = "
        f"{_f(cpu.get('ideal_s'), '{:.2f}', ' s')}; "
        f"makespan / ideal {_f(cpu.get('makespan_over_ideal'), '{:.2f}', ' x')}; "
        f"machine busy {_f(cpu.get('machine_busy_percent'), '{:.0f}', '%')}, of which other processes "
        f"{_f(cpu.get('other_processes_cpu_s'), '{:.1f}', ' CPU s')}"
    )
    out.append(
        f"with PostgreSQL and Redis counted too: t_cpu {_f(cpu.get('t_cpu_with_datastores_s'), '{:.3f}', ' s')}, "
        f"makespan / ideal {_f(cpu.get('makespan_over_ideal_with_datastores'), '{:.2f}', ' x')}"
    )

    render = _get(figures, "render.load") or {}
    out.append("")
    out.append("Workflow histories")
    out.append(
        f"single runs: render_ms p50 {_f(_get(figures, 'render.single.render_ms.p50'), '{:.0f}', ' ms')}, "
        f"p99 {_f(_get(figures, 'render.single.render_ms.p99'), '{:.0f}', ' ms')}; "
        f"LLM calls per run {_f(_get(figures, 'llm.calls_per_run'), '{:.2f}')}"
    )
    out.append(
        f"load runs: render_ms p50 {_f(_get(render, 'render_ms.p50'), '{:.0f}', ' ms')}, p99 "
        f"{_f(_get(render, 'render_ms.p99'), '{:.0f}', ' ms')} "
        f"({_f(_get(render, 'render_pages.p50'), '{:.0f}')} pages); "
        f"history {_f(_get(render, 'history_bytes.p50'), '{:.0f}', ' bytes')} p50 "
        f"({_f(_get(render, 'history_events.p50'), '{:.0f}')} events, JSON "
        f"{_f(_get(render, 'history_json_bytes.p50'), '{:.0f}', ' bytes')}); DESIGN: ~99 KB with content payloads"
    )
    for label, key in (("single runs", "render.single"), ("load", "render.load")):
        steps = _get(figures, f"{key}.steps") or {}
        if not steps:
            continue
        out.append(f"where a run's time goes ({label}; ms, p50 / p99)")
        out.append(
            _table(
                ["step", "queued p50", "queued p99", "running p50", "running p99"],
                [
                    [
                        name,
                        _f(_get(s, "schedule_to_start_ms.p50")),
                        _f(_get(s, "schedule_to_start_ms.p99")),
                        _f(_get(s, "start_to_close_ms.p50")),
                        _f(_get(s, "start_to_close_ms.p99")),
                    ]
                    for name, s in steps.items()
                ],
            )
        )

    webhooks = figures.get("webhooks")
    if webhooks is not None:
        out.append("")
        out.extend(_webhook_lines(webhooks))

    rss = figures.get("rss_mb", {})
    out.append("")
    out.append("Peak RSS (MB, sampled every 0.2 s)")
    phases = [p for p in ("single", "load", "webhooks") if p in rss]
    names = sorted({name for p in phases for name in rss[p]})
    out.append(_table(["process", *phases], [[n, *(_f(rss[p].get(n), "{:.0f}") for p in phases)] for n in names]))
    out.append("")
    out.append("Priorities: " + c.get("priorities", ""))
    return "\n".join(out)


def _webhook_lines(w: dict[str, Any]) -> list[str]:
    out = [
        f"Stripe webhooks: {w.get('events')} events from {w.get('senders')} concurrent senders, "
        f"{w.get('users')} users, {w.get('cycles_per_user', 'n/a')} billing cycles each"
    ]
    if "error" in w:
        out.append(f"FAILED: {w['error']}")
        out.extend(f"  {p}" for p in w.get("problems", []))
        return out
    keys = ("p50", "p95", "p99", "max")
    rows = [["POST /webhooks/stripe (ms)", *(_f(_get(w, f"latency_ms.{k}")) for k in keys)]]
    for kind, values in (w.get("latency_ms_by_type") or {}).items():
        rows.append([f"  {kind}", *(_f(values.get(k)) for k in keys)])
    rows.append(
        ["duplicates, 1 sender, quiet (ms)", *(_f(_get(w, f"exactly_once.duplicate_latency_ms.{k}")) for k in keys)]
    )
    rows.append(["answer -> applied by the workflow (ms)", *(_f(_get(w, f"sent_to_applied_ms.{k}")) for k in keys)])
    out.append(_table(["figure", *keys], rows))
    out.append(
        f"{w.get('delivered')} delivered, {w.get('failed')} failed; {_f(w.get('events_per_s'))} events/s while "
        f"sending (mean {_f(w.get('mean_in_flight'))} in flight), {_f(w.get('events_applied_per_s'))} events/s "
        f"applied over the phase ({_f(w.get('phase_s'), '{:.1f}', ' s')}, with renewals at the fake and waits); "
        f"set-up {_f(w.get('setup_s'), '{:.1f}', ' s')}"
    )
    out.append(
        "waves: "
        + "; ".join(
            f"{v['events']} in {v['burst_s']:.2f} s, p99 {_f(v.get('p99_ms'), '{:.0f}')} ms, applied "
            f"+{v['applied_after_burst_s']:.2f} s"
            for v in w.get("waves", [])
        )
    )
    cpu = w.get("cpu_ms_per_event_burst") or {}
    cpu_all = w.get("cpu_ms_per_event_until_applied") or {}
    names = [n for n in ("api", "temporal", "worker", "postgres", "stripe_fake", "bench_client") if n in cpu]
    out.append(
        "CPU ms per event, while sending / until applied: "
        + ", ".join(f"{n} {_f(cpu.get(n), '{:.2f}')} / {_f(cpu_all.get(n), '{:.2f}')}" for n in names)
    )
    once = w.get("exactly_once") or {}
    out.append(
        f"exactly once: {'PASS' if once.get('passed') else 'FAIL'}; stripe_events rows "
        f"{once.get('stripe_events_rows')}/{once.get('expected_rows')} (set-up included), outcomes "
        f"{once.get('outcomes')}; {once.get('duplicates_sent')} duplicates answered delivered "
        f"{once.get('duplicates_answered_delivered')}, taken by the workflows "
        f"{once.get('duplicates_taken_by_workflows')}, "
        f"nothing changed {once.get('unchanged_after_duplicates')}"
    )
    out.extend(f"  problem: {p}" for p in once.get("problems", []))
    out.extend(f"  failure: {f}" for f in w.get("failures", [])[:10])
    probes = w.get("probes_ms") or {}
    if probes:
        out.append(
            "probes while sending (ms, p50 / p99): "
            + ", ".join(f"{n} {_f(v.get('p50'))} / {_f(v.get('p99'))}" for n, v in probes.items())
        )
    return out
