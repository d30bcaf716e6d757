"""Copies of workflow modules with a change applied, importable under a package of their own, to show what a
change would do to recorded histories without touching the real code."""

from __future__ import annotations

import importlib
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from tests.conftest import ROOT

# An extra activity before the rewrite: new runs would score the CV first. Incompatible with every history that
# reached the rewrite, unless guarded by `workflow.patched`.
BEFORE_REWRITE = "            rewrite = await self._long_step(\n"
EXTRA_ACTIVITY = (
    "            await workflow.execute_activity_method(\n"
    "                acts.score_cv, ref, start_to_close_timeout=STORAGE_TIMEOUT, summary='Score before the rewrite'\n"
    "            )\n"
)
SCORE_FIRST = [(BEFORE_REWRITE, EXTRA_ACTIVITY + BEFORE_REWRITE)]
SCORE_FIRST_PATCHED = [
    (
        BEFORE_REWRITE,
        "            if workflow.patched('score-before-rewrite'):\n"
        + "".join("    " + line + "\n" for line in EXTRA_ACTIVITY.splitlines())
        + BEFORE_REWRITE,
    )
]


def changed_copy(module: str, edits: Sequence[tuple[str, str]], where: Path) -> ModuleType:
    """workflows/<module>.py with each (old, new) replaced once, imported as <fresh package>.<module> from
    `where`, which must be on sys.path (the sandbox imports the module again by its name)."""
    source = (ROOT / "workflows" / f"{module}.py").read_text(encoding="utf-8")
    for old, new in edits:
        assert source.count(old) == 1, f"{old!r} is not in workflows/{module}.py once: update the test's change"
        source = source.replace(old, new)
    package = f"changed_workflows_{uuid.uuid4().hex[:8]}"
    (where / package).mkdir()
    (where / package / "__init__.py").write_text("")
    (where / package / f"{module}.py").write_text(source, encoding="utf-8")
    assert str(where) in sys.path, "put `where` on sys.path first (monkeypatch.syspath_prepend)"
    importlib.invalidate_caches()
    return importlib.import_module(f"{package}.{module}")
