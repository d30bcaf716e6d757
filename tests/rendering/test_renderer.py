"""PdfRenderer: warm child processes render in parallel, survive a dead child, and shut down cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
from concurrent.futures.process import BrokenProcessPool
from io import BytesIO

import pytest
from pypdf import PdfReader

from activities.rendering import PdfRenderer, UnknownTheme
from models.resume import Resume
from models.target import PaperSize
from tests.rendering.pdf_text import missing, pypdf_text


def _children() -> set[int]:
    return {p.pid for p in multiprocessing.active_children() if p.pid is not None}


async def test_four_concurrent_renders_are_valid_pdfs_and_close_stops_the_children(
    realistic_resume: Resume,
) -> None:
    before = _children()
    renderer = PdfRenderer(max_workers=2)
    assert _children() == before  # nothing starts before it is needed

    jobs = [
        ("classic", PaperSize.A4),
        ("modern", PaperSize.A4),
        ("classic", PaperSize.LETTER),
        ("modern", "Letter"),
    ]
    results = await asyncio.gather(
        *(
            renderer.render(realistic_resume, theme=theme, paper=PaperSize(paper), language="en")
            for theme, paper in jobs
        )
    )
    started = _children() - before
    assert len(started) == 2

    for result in results:
        reader = PdfReader(BytesIO(result.pdf))
        assert len(reader.pages) == result.pages == 2
        assert 0 < result.render_ms < 10_000
        assert missing(["Jane Marie Doe", "Northwind Payments Ltd"], pypdf_text(result.pdf)) == []

    renderer.close()
    assert not (_children() & started)
    renderer.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        await renderer.render(realistic_resume, theme="classic", paper=PaperSize.A4, language="en")


async def test_a_bad_theme_fails_without_starting_a_child() -> None:
    before = _children()
    renderer = PdfRenderer(max_workers=1)
    with pytest.raises(UnknownTheme):
        await renderer.render(Resume(), theme="fancy", paper=PaperSize.A4, language="en")
    assert _children() == before
    renderer.close()


async def test_a_dead_child_fails_its_render_and_the_next_render_works(realistic_resume: Resume) -> None:
    async with PdfRenderer(max_workers=1) as renderer:
        await renderer.wait_until_ready()
        (child,) = _children_of(renderer)
        os.kill(child, signal.SIGKILL)
        await asyncio.sleep(0.5)  # the pool notices the death

        result = await renderer.render(realistic_resume, theme="modern", paper=PaperSize.A4, language="en")
        assert result.pages == 2
        assert _children_of(renderer) != {child}


async def test_a_child_dying_mid_render_fails_that_render(realistic_resume: Resume) -> None:
    async with PdfRenderer(max_workers=1) as renderer:
        await renderer.wait_until_ready()
        (child,) = _children_of(renderer)
        render = asyncio.ensure_future(
            renderer.render(realistic_resume, theme="classic", paper=PaperSize.A4, language="en")
        )
        await asyncio.sleep(0.02)
        os.kill(child, signal.SIGKILL)
        with contextlib.suppress(BrokenProcessPool):  # expected, unless the render won the race
            await render
        again = await renderer.render(realistic_resume, theme="classic", paper=PaperSize.A4, language="en")
        assert again.pages == 2


async def test_ctrl_c_leaves_the_children_to_the_parent(realistic_resume: Resume) -> None:
    """SIGINT reaches the whole process group; the worker's graceful shutdown still needs its renderers."""
    async with PdfRenderer(max_workers=1) as renderer:
        await renderer.wait_until_ready()
        (child,) = _children_of(renderer)
        os.kill(child, signal.SIGINT)
        result = await renderer.render(realistic_resume, theme="classic", paper=PaperSize.A4, language="en")
        assert result.pages == 2
        assert _children_of(renderer) == {child}


def _children_of(renderer: PdfRenderer) -> set[int]:
    """The renderer's child processes (a white-box look, to kill one the way the OOM killer would)."""
    pool = renderer._pool
    assert pool is not None
    return {p.pid for p in pool._processes.values() if p.pid is not None}
