"""A pool of warm renderer processes: WeasyPrint holds the GIL, so throughput scales with processes only."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing.synchronize import Semaphore

from models.resume import Basics, Resume, Work
from models.target import PaperSize

from .pdf import RenderedPdf, render_pdf
from .themes import list_themes, validate_theme


@dataclass(frozen=True)
class _RenderJob:
    """What crosses to the child: plain, picklable data (the Resume as its JSON dict)."""

    resume: dict[str, object]
    theme: str
    paper: str
    language: str
    max_pages: int = 2


RENDER_NICENESS = 5


def _render_job(job: _RenderJob) -> RenderedPdf:
    resume = Resume.model_validate(job.resume)
    return render_pdf(
        resume, theme=job.theme, paper=PaperSize(job.paper), language=job.language, max_pages=job.max_pages
    )


def _warm_up(ready: Semaphore | None = None) -> None:
    """Runs once in each child: imports WeasyPrint, loads the fonts and parses every theme before real work.

    One render per theme, paper sizes alternating, with Latin, Greek and Cyrillic text. CJK faces are left to
    the first CV that needs them: they hold ~100 MB per process, and loading them then costs ~100 ms once.
    """
    # Ctrl-C reaches the whole process group: the parent decides when children stop (close()), so a
    # graceful shutdown can still finish the renders in flight.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Renders are batch work: below the worker's event loop, so database steps and heartbeats stay prompt.
    os.nice(RENDER_NICENESS)
    resume = Resume(
        basics=Basics(name="Warm Up Ωμέγα Привет", summary="Ready."),
        work=[Work(name="Example", position="Role", startDate="2020-01", highlights=["One line."])],
    )
    papers = list(PaperSize)
    for index, theme in enumerate(list_themes()):
        render_pdf(resume, theme=theme.name, paper=papers[index % len(papers)], language="en")
    if ready is not None:
        ready.release()


def _noop() -> None:
    return None


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class PdfRenderer:
    """Renders CVs to PDF in `max_workers` child processes (default: one per available core).

    The children are started by `spawn`: forking a process that runs asyncio and Temporal SDK threads is
    unsafe. Nothing starts at construction; `start()` or the first `render()` does. A child that dies
    (out of memory, a crash in a C library) fails the renders in flight; the next render gets a new pool.
    """

    def __init__(self, max_workers: int | None = None) -> None:
        if max_workers is not None and max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self._max_workers = max_workers or _available_cores()
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._ready: Semaphore | None = None
        self._closed = False

    @property
    def max_workers(self) -> int:
        return self._max_workers

    def start(self) -> None:
        """Start every child now (each warms up in the background) instead of on the first render."""
        self._ensure_pool()

    async def wait_until_ready(self, timeout: float = 120.0) -> None:
        """Start the children if needed and wait until each has finished warming up."""
        _, ready = self._ensure_pool()
        acquired = 0
        try:
            for _ in range(self._max_workers):
                if not await asyncio.to_thread(ready.acquire, True, timeout):
                    raise TimeoutError(f"PDF renderer processes not ready after {timeout:.0f} s")
                acquired += 1
        finally:
            for _ in range(acquired):  # leave the count for a later caller
                ready.release()

    async def render(
        self, resume: Resume, *, theme: str, paper: PaperSize, language: str, max_pages: int = 2
    ) -> RenderedPdf:
        validate_theme(theme)  # here, so a bad name fails fast without a trip to a child
        job = _RenderJob(
            resume=resume.model_dump(mode="json", exclude_none=True),
            theme=theme,
            paper=PaperSize(paper).value,
            language=language,
            max_pages=max_pages,
        )
        pool, _ = self._ensure_pool()
        try:
            future = pool.submit(_render_job, job)
        except BrokenProcessPool:
            # A child died since the last render (e.g. killed for memory): this job played no part, so it
            # gets a fresh pool.
            self._discard(pool)
            pool, _ = self._ensure_pool()
            future = pool.submit(_render_job, job)
        try:
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            # This render, or one beside it, killed its child; the caller (Temporal) decides about retrying.
            self._discard(pool)
            raise

    def close(self) -> None:
        """Stop the children; queued renders are cancelled. Idempotent."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    async def __aenter__(self) -> PdfRenderer:
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.to_thread(self.close)

    def _ensure_pool(self) -> tuple[ProcessPoolExecutor, Semaphore]:
        with self._lock:
            if self._closed:
                raise RuntimeError("PdfRenderer is closed")
            if self._pool is None or self._ready is None:
                self._ready = self._context.Semaphore(0)
                self._pool = ProcessPoolExecutor(
                    max_workers=self._max_workers,
                    mp_context=self._context,
                    initializer=_warm_up,
                    initargs=(self._ready,),
                )
                # A spawn pool starts a child per submitted task until it has max_workers: start them all now.
                for _ in range(self._max_workers):
                    self._pool.submit(_noop)
            return self._pool, self._ready

    def _discard(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken:
                self._pool = None
        broken.shutdown(wait=False, cancel_futures=True)
