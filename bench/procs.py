"""Child processes of the bench (started, watched, stopped by pid) and a sampler of their CPU time and memory."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psutil

from devstack.services import exit_with_parent_preexec


def tail(path: Path, lines: int = 25) -> str:
    """The last lines of a log file, for error messages."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class ManagedProcess:
    """A process the bench started: its own session, its output in a log file, SIGTERM then SIGKILL to stop."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    nice: int
    stop_timeout: float
    _log_file: IO[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def describe_exit(self) -> str:
        return f"{self.name} (pid {self.pid}) exited with code {self.popen.poll()}; log {self.log_path}:\n" + tail(
            self.log_path
        )

    def stop(self) -> None:
        """SIGTERM, wait `stop_timeout`, then SIGKILL. Idempotent."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.popen.kill()
                self.popen.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


def launch(
    name: str,
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    log_dir: Path,
    nice: int = 0,
    stop_timeout: float = 10.0,
) -> ManagedProcess:
    """Start `argv` in its own session with output to `log_dir/name.log`, at niceness +`nice`.

    Call it from the main thread: the child gets SIGTERM when the thread that started it ends (PDEATHSIG),
    which is what makes a killed bench leave no orphans.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    log_file = log_path.open("wb")
    exit_with_parent = exit_with_parent_preexec()

    def preexec() -> None:
        if exit_with_parent is not None:
            exit_with_parent()
        if nice:
            os.nice(nice)

    popen = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C reaches the bench only; it stops the children in order
        preexec_fn=preexec,
    )
    return ManagedProcess(name, popen, log_path, nice, stop_timeout, log_file)


# ---------------------------------------------------------------------------------------------------------
# Sampling


@dataclass(frozen=True)
class Group:
    """Processes measured together: a root and, if `children`, all its descendants (e.g. the render pool)."""

    name: str
    pid: int
    children: bool = False


@dataclass
class _GroupState:
    group: Group
    members: list[psutil.Process] = field(default_factory=list)
    cpu: dict[int, float] = field(default_factory=dict)  # last seen user+system seconds, per pid
    seen: dict[int, float] = field(default_factory=dict)  # pid -> create_time


@dataclass(frozen=True)
class CpuMark:
    """CPU seconds per group and pid at one instant, plus the machine's CPU times."""

    at: float
    per_pid: dict[str, dict[int, float]]
    machine_busy: float
    machine_total: float
    machine_steal: float  # time the hypervisor gave to other guests: a noisy neighbour
    monitor_cpu: float


MemoryReading = dict[str, float]  # metric name -> bytes


def _pss(pid: int) -> float | None:
    """Proportional set size from /proc/PID/smaps_rollup (cheap, unlike a full smaps walk)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return float(line.split()[1]) * 1024.0
    except (OSError, ValueError, IndexError):
        return None
    return None


class Monitor:
    """Samples RSS and CPU time of process groups every `interval` seconds in a thread and keeps the RSS peaks
    per phase. Group membership (descendants) is refreshed every `refresh_every` samples with one scan of the
    process table; PSS of the groups named in `pss_groups` at the same pace. CPU seconds over a phase are the
    difference of two `mark()`s, pid by pid, so a child that appears during the phase counts from zero."""

    def __init__(
        self,
        groups: Sequence[Group],
        *,
        interval: float = 0.2,
        refresh_every: int = 10,
        pss_groups: Sequence[str] = ("worker",),
    ) -> None:
        self._states = {g.name: _GroupState(g) for g in groups}
        self._interval = interval
        self._refresh_every = refresh_every
        self._pss_groups = frozenset(pss_groups)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._phase = "startup"
        self._peaks: dict[str, MemoryReading] = {}
        self._ticks = 0
        self._thread_cpu = 0.0
        self.samples = 0

    # -- lifecycle

    def start(self) -> None:
        self.sample()
        self._thread = threading.Thread(target=self._run, name="bench-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.sample()
            self._thread_cpu = time.thread_time()

    # -- phases and results

    @property
    def thread_cpu_s(self) -> float:
        """CPU seconds the sampling thread has used so far (part of the bench client's own CPU)."""
        return self._thread_cpu

    def set_phase(self, phase: str) -> None:
        with self._lock:
            self._phase = phase

    def peaks(self) -> dict[str, MemoryReading]:
        with self._lock:
            return {phase: dict(values) for phase, values in self._peaks.items()}

    def processes_seen(self) -> dict[str, dict[int, float]]:
        """Every process sampled so far, per group: pid -> create time."""
        with self._lock:
            return {name: dict(state.seen) for name, state in self._states.items()}

    def mark(self) -> CpuMark:
        """Sample now (with a fresh membership scan) and return the CPU seconds of every process seen so far."""
        self.sample(refresh=True)
        machine = psutil.cpu_times()._asdict()
        idle = machine.get("idle", 0.0) + machine.get("iowait", 0.0)
        steal = machine.get("steal", 0.0)
        # guest time is already counted in user time on Linux
        total = sum(v for k, v in machine.items() if k not in ("guest", "guest_nice"))
        with self._lock:
            per_pid = {name: dict(state.cpu) for name, state in self._states.items()}
        return CpuMark(time.monotonic(), per_pid, total - idle - steal, total, steal, self._thread_cpu)

    @staticmethod
    def cpu_between(start: CpuMark, end: CpuMark) -> dict[str, float]:
        """CPU seconds each group used between two marks (processes that appeared in between count in full)."""
        used: dict[str, float] = {}
        for name, pids in end.per_pid.items():
            before = start.per_pid.get(name, {})
            used[name] = sum(max(0.0, seconds - before.get(pid, 0.0)) for pid, seconds in pids.items())
        return used

    # -- sampling

    def _refresh_members(self) -> None:
        children: dict[int, list[psutil.Process]] = {}
        for process in psutil.process_iter(["ppid"]):
            ppid = process.info.get("ppid")
            if ppid:
                children.setdefault(int(ppid), []).append(process)
        for state in self._states.values():
            try:
                root = next((m for m in state.members if m.pid == state.group.pid), None) or psutil.Process(
                    state.group.pid
                )
            except psutil.Error:
                state.members = []
                continue
            members = [root]
            if state.group.children:
                queue = [root.pid]
                while queue:
                    for child in children.get(queue.pop(), []):
                        members.append(child)
                        queue.append(child.pid)
            state.members = members

    def sample(self, *, refresh: bool = False) -> None:
        with self._lock:
            self._ticks += 1
            periodic = self._ticks % self._refresh_every == 1
            if refresh or periodic:
                self._refresh_members()
            reading: MemoryReading = {}
            for name, state in self._states.items():
                if not state.members:
                    continue
                total = pss = largest_child = 0.0
                want_pss = periodic and name in self._pss_groups
                for process in state.members:
                    try:
                        with process.oneshot():
                            times = process.cpu_times()
                            rss = float(process.memory_info().rss)
                            created = process.create_time()
                    except psutil.Error:
                        continue
                    state.cpu[process.pid] = times.user + times.system
                    state.seen.setdefault(process.pid, created)
                    total += rss
                    if want_pss:
                        pss += _pss(process.pid) or rss
                    if process.pid == state.group.pid:
                        reading[f"{name}_main"] = rss
                    else:
                        largest_child = max(largest_child, rss)
                reading[name] = total
                if state.group.children:
                    reading[f"{name}_largest_child"] = largest_child
                if want_pss:
                    reading[f"{name}_pss"] = pss
            peaks = self._peaks.setdefault(self._phase, {})
            for metric, value in reading.items():
                if value > peaks.get(metric, 0.0):
                    peaks[metric] = value
            self.samples += 1


def kill_leftovers(processes: Mapping[int, float], log: Callable[[str], None], *, grace: float = 3.0) -> None:
    """Processes of ours (pid -> create time, as sampled) that outlived their parent's stop: give them `grace`
    seconds to exit on their own (a resource tracker notices its parent is gone), then SIGKILL them."""
    alive: list[psutil.Process] = []
    for pid, created in sorted(processes.items()):
        try:
            process = psutil.Process(pid)
            if process.create_time() == created and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)  # else the pid now belongs to another process, or it is gone
        except psutil.Error:
            continue
    _, still = psutil.wait_procs(alive, timeout=grace)
    for process in still:
        try:
            command = " ".join(process.cmdline())[:160]
            process.kill()
            log(f"killed leftover process {process.pid}: {command}")
        except psutil.Error:
            continue
