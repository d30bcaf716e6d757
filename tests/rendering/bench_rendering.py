"""Render-time figures for the realistic two-page CV: `.venv/bin/python -m tests.rendering.bench_rendering`.

Prints, per theme: warm in-process render time (wall and CPU), warm PdfRenderer latency, renders per second
with 1 and 2 processes, and the children's memory. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from activities.rendering import PdfRenderer, list_themes, render_pdf
from models.resume import Resume
from models.target import PaperSize
from tests.rendering.sample_cvs import REALISTIC_CV


def _ms(values: list[float]) -> str:
    values = sorted(values)
    return (
        f"p50 {statistics.median(values):6.1f}  p25 {values[len(values) // 4]:6.1f}  "
        f"min {values[0]:6.1f}  p90 {values[int(len(values) * 0.9)]:6.1f} ms"
    )


def _memory_mib(pid: int) -> str:
    """RSS split into anonymous memory and file pages (fonts, shared between processes), and PSS."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    rollup = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:] if ":" in line
    )

    def mib(value: str) -> str:
        return f"{int(value.split()[0]) / 1024:.0f}"

    return (
        f"RSS {mib(status['VmRSS'])} MiB "
        f"(anonymous {mib(status['RssAnon'])}, files {mib(status['RssFile'])}), "
        f"PSS {mib(rollup['Pss'])} MiB, peak RSS {mib(status['VmHWM'])} MiB"
    )


def in_process(resume: Resume, runs: int) -> None:
    for theme in list_themes():
        for _ in range(3):
            render_pdf(resume, theme=theme.name, paper=PaperSize.A4, language="en")
        wall: list[float] = []
        cpu: list[float] = []
        for _ in range(runs):
            started, cpu_started = time.perf_counter(), time.process_time()
            result = render_pdf(resume, theme=theme.name, paper=PaperSize.A4, language="en")
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
        print(f"in-process  {theme.name:8} {result.pages} pages  wall {_ms(wall)}")
        print(f"            {'':8}          cpu  {_ms(cpu)}")


async def through_pool(resume: Resume, runs: int) -> None:
    for workers in (1, 2):
        async with PdfRenderer(max_workers=workers) as renderer:
            await renderer.wait_until_ready()
            for theme in list_themes():
                latency: list[float] = []
                child: list[float] = []
                for _ in range(runs):
                    started = time.perf_counter()
                    result = await renderer.render(resume, theme=theme.name, paper=PaperSize.A4, language="en")
                    latency.append((time.perf_counter() - started) * 1000)
                    child.append(result.render_ms)
                print(f"pool x{workers}    {theme.name:8} latency {_ms(latency)}")
                print(f"            {'':8} in child {_ms(child)}")

            total = runs * 4
            started = time.perf_counter()
            themes = [t.name for t in list_themes()]
            await asyncio.gather(
                *(
                    renderer.render(resume, theme=themes[i % len(themes)], paper=PaperSize.A4, language="en")
                    for i in range(total)
                )
            )
            elapsed = time.perf_counter() - started
            print(f"pool x{workers}    throughput {total / elapsed:5.1f} renders/s ({total} renders, {elapsed:.1f} s)")
            pool = renderer._pool
            if pool is not None:
                for pid in sorted(p.pid for p in pool._processes.values() if p.pid is not None):
                    print(f"            child {pid}: {_memory_mib(pid)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    resume = Resume.model_validate(REALISTIC_CV)
    in_process(resume, args.runs)
    asyncio.run(through_pool(resume, args.runs))


if __name__ == "__main__":
    main()
