"""The `.dev/stack.json` file through which a running dev stack tells other commands (make demo) where it is.

Standard library only, so that light clients can read it without importing the service drivers.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STACK_FILE = Path(".dev") / "stack.json"


def pid_is_alive(pid: int) -> bool:
    """True if the process exists and is not a zombie (an exited daemon whose reaper has not come by)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs: trust kill(0)
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def process_command(pid: int) -> str:
    """The command line of a process, or "" if it cannot be read (gone, or no procfs)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)


@dataclass(frozen=True)
class StackInfo:
    """What a running `python -m devstack.launcher` serves; `status` is "starting" until /healthz answers."""

    launcher_pid: int
    status: str
    api_url: str = ""
    docs_url: str = ""
    database_url: str = ""
    redis_url: str = ""
    temporal_address: str = ""
    temporal_namespace: str = "default"
    temporal_ui_url: str | None = None
    postgres: str = ""
    redis: str = ""
    temporal: str = ""
    logs_dir: str = ""
    worker_metrics_url: str = ""  # the worker's Prometheus endpoint; "" when WORKER_METRICS_PORT=0
    processes: dict[str, int] = field(default_factory=dict)
    commands: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return self.status == "ready" and pid_is_alive(self.launcher_pid)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StackInfo:
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in data.items() if key in known})


def stack_file(root: Path) -> Path:
    return root / STACK_FILE


def read_stack(root: Path) -> StackInfo | None:
    """The stack file's content, whether or not its launcher still runs; None if absent or unreadable."""
    try:
        data = json.loads(stack_file(root).read_text())
        return StackInfo.from_dict(data)
    except (OSError, ValueError, TypeError):
        return None


def running_stack(root: Path) -> StackInfo | None:
    """The stack served by a live launcher that reported ready, else None."""
    info = read_stack(root)
    return info if info is not None and info.ready else None


def write_stack(root: Path, info: StackInfo) -> None:
    """Write atomically, so a reader never sees half a file."""
    path = stack_file(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(info.to_json())
    temporary.replace(path)


def remove_stack(root: Path, launcher_pid: int) -> None:
    """Remove the stack file if it belongs to `launcher_pid` (never another launcher's)."""
    info = read_stack(root)
    if info is not None and info.launcher_pid == launcher_pid:
        stack_file(root).unlink(missing_ok=True)
