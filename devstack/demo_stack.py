"""The dev stack for the length of a block (`make demo`): reuse the one `make dev` runs, else start one.

    from devstack.demo_stack import dev_stack

    with dev_stack() as stack:
        httpx.get(f"{stack.api_url}/healthz")

A stack that was already running is left running; one started here (`python -m devstack.launcher
--background`) is stopped when the block ends, even on error. Standard library only: the stack runs in other
processes, so the demo imports no database or Temporal driver.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devstack.stack import StackInfo, running_stack


class DevStackUnavailableError(RuntimeError):
    """The dev stack could not be started; the launcher's output says why."""


def _launcher(root: Path, *args: str) -> int:
    command = [sys.executable, "-m", "devstack.launcher", "--root", str(root), *args]
    return subprocess.run(command, cwd=root, check=False).returncode


def _default_root() -> Path:
    cwd = Path.cwd()
    return cwd if (cwd / "pyproject.toml").is_file() else Path(__file__).resolve().parent.parent


@contextmanager
def dev_stack(root: Path | None = None) -> Iterator[StackInfo]:
    """Yield the running stack's description (URLs, pids); start and later stop one if none runs."""
    root = (root or _default_root()).resolve()
    existing = running_stack(root)
    if existing is not None:
        yield existing
        return
    if _launcher(root, "--background") != 0:
        raise DevStackUnavailableError("the dev stack did not start (see the launcher's output above)")
    started = running_stack(root)
    if started is None:
        raise DevStackUnavailableError("the dev stack started but is not running any more")
    try:
        yield started
    finally:
        _launcher(root, "--stop")
