"""`make dev`: PostgreSQL, Redis, Temporal, migrations, the worker and the API, stopped together by Ctrl-C.

    python -m devstack.launcher               # foreground; children's logs echoed with a name prefix
    python -m devstack.launcher --background  # start detached, return once /healthz answers (or reuse one)
    python -m devstack.launcher --status      # print the running stack; exit 1 if none
    python -m devstack.launcher --stop        # stop the stack started by either form

Each service is reused if one answers (DATABASE_URL, REDIS_URL, TEMPORAL_ADDRESS or the local defaults)
and otherwise started from PyPI, with its data under `.dev/` (pgdata, redis, temporal.db). Ports: API_PORT
(8000), TEMPORAL_PORT (7233), TEMPORAL_UI_PORT (8233), WORKER_METRICS_PORT (9464, the worker's /metrics; 0
turns it off). A busy API port, or a busy Temporal or metrics port you set yourself, is an error naming the
process that holds it; a busy default Temporal or metrics port moves to the next free one. Logs: `.dev/logs/<part>.log`.

The running stack is described in `.dev/stack.json` (see devstack.stack) until the launcher exits; `make demo`
reuses it through devstack.demo_stack. SIGINT/SIGTERM stop everything in order and exit 0; a child that dies
on its own stops the rest and exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import sysconfig
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from devstack.services import (
    DEFAULT_TEMPORAL_NAMESPACE,
    DevStackError,
    PortInUseError,
    PostgresHandle,
    RedisHandle,
    TemporalHandle,
    connect_temporal,
    describe_port_holder,
    ensure_postgres,
    ensure_redis,
    ensure_temporal,
    exit_with_parent_preexec,
    pick_port,
    port_is_free,
)
from devstack.stack import (
    StackInfo,
    pid_is_alive,
    process_command,
    read_stack,
    remove_stack,
    running_stack,
    stack_file,
    write_stack,
)

API_HOST = "127.0.0.1"
CHILD_STOP_TIMEOUT = 40.0  # longer than the worker's shutdown grace (30 s): it finishes running activities first
HEALTH_TIMEOUT = 90.0
BACKGROUND_TIMEOUT = 180.0
_ENV_FILE_KEYS = (
    "DATABASE_URL",
    "REDIS_URL",
    "TEMPORAL_ADDRESS",
    "TEMPORAL_NAMESPACE",
    "TEMPORAL_UI_URL",
    "WORKER_METRICS_PORT",
)


_DESCRIPTION = "Run the CV Improver dev stack: PostgreSQL, Redis, Temporal, migrations, worker and API."


class StartupError(DevStackError):
    """The stack could not start; the message says which part and where its log is."""


class _Interrupted(Exception):
    """SIGINT/SIGTERM arrived while the stack was starting."""


def _print(message: str = "", *, err: bool = False) -> None:
    print(message, file=sys.stderr if err else sys.stdout, flush=True)


def default_root() -> Path:
    """The repository: the working directory if it holds pyproject.toml (make), else this package's parent."""
    cwd = Path.cwd()
    if (cwd / "pyproject.toml").is_file():
        return cwd
    return Path(__file__).resolve().parent.parent


def _port_from_env(environ: Mapping[str, str], name: str, default: int) -> tuple[int, bool]:
    raw = environ.get(name, "").strip()
    if not raw:
        return default, False
    try:
        port = int(raw)
    except ValueError:
        raise StartupError(f"{name} must be a port number, got {raw!r}") from None
    if not 0 < port < 65536:
        raise StartupError(f"{name} must be between 1 and 65535, got {port}")
    return port, True


def _env_file_values(root: Path) -> dict[str, str]:
    # The app reads `.env` through pydantic-settings; honour the same file for the services it points at.
    path = root / ".env"
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {key: value for key, value in dotenv_values(path).items() if key in _ENV_FILE_KEYS and value}


@dataclass(frozen=True)
class LauncherConfig:
    root: Path
    database_url: str | None
    redis_url: str | None
    temporal_address: str | None
    temporal_namespace: str
    temporal_ui_url: str | None
    api_port: int
    temporal_port: int
    temporal_port_explicit: bool
    temporal_ui_port: int
    temporal_ui_port_explicit: bool
    worker_metrics_port: int = 9464  # 0: the worker serves no /metrics
    worker_metrics_port_explicit: bool = False

    @property
    def dev_dir(self) -> Path:
        return self.root / ".dev"

    @property
    def logs_dir(self) -> Path:
        return self.dev_dir / "logs"

    @classmethod
    def from_environment(cls, root: Path, environ: Mapping[str, str] | None = None) -> LauncherConfig:
        env = {**_env_file_values(root), **(os.environ if environ is None else environ)}
        api_port, _ = _port_from_env(env, "API_PORT", 8000)
        temporal_port, temporal_port_explicit = _port_from_env(env, "TEMPORAL_PORT", 7233)
        ui_port, ui_port_explicit = _port_from_env(env, "TEMPORAL_UI_PORT", 8233)
        if env.get("WORKER_METRICS_PORT", "").strip() == "0":
            metrics_port, metrics_port_explicit = 0, True
        else:
            metrics_port, metrics_port_explicit = _port_from_env(env, "WORKER_METRICS_PORT", 9464)
        return cls(
            root=root,
            database_url=env.get("DATABASE_URL") or None,
            redis_url=env.get("REDIS_URL") or None,
            temporal_address=env.get("TEMPORAL_ADDRESS") or None,
            temporal_namespace=env.get("TEMPORAL_NAMESPACE") or DEFAULT_TEMPORAL_NAMESPACE,
            temporal_ui_url=env.get("TEMPORAL_UI_URL") or None,
            api_port=api_port,
            temporal_port=temporal_port,
            temporal_port_explicit=temporal_port_explicit,
            temporal_ui_port=ui_port,
            temporal_ui_port_explicit=ui_port_explicit,
            worker_metrics_port=metrics_port,
            worker_metrics_port_explicit=metrics_port_explicit,
        )


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join("    " + line for line in text.splitlines()[-lines:]) or "    (empty log)"


def _script(name: str) -> list[str]:
    # Console scripts, not `python -m`: the repo's alembic/ folder would shadow the alembic package.
    candidate = Path(sysconfig.get_path("scripts")) / name
    if candidate.is_file():
        return [str(candidate)]
    return [sys.executable, "-m", name]


def banner(info: StackInfo, root: Path) -> str:
    logs = _relative(Path(info.logs_dir), root) if info.logs_dir else ".dev/logs"
    ui = info.temporal_ui_url or "(unknown: set TEMPORAL_UI_URL)"
    return "\n".join(
        [
            "",
            "CV Improver dev stack is ready",
            f"  API docs     {info.docs_url}",
            f"  Temporal UI  {ui}",
            f"  Metrics      {info.api_url}/metrics (API), {info.worker_metrics_url or 'off'} (worker)",
            f"  PostgreSQL   {info.postgres}",
            f"  Redis        {info.redis}",
            f"  Temporal     {info.temporal}",
            f"  Logs         {logs}/ (api.log, worker.log, migrate.log, temporal.log)",
            f"  Stop         Ctrl-C in the launcher's terminal, or: python -m devstack.launcher --stop"
            f" (launcher pid {info.launcher_pid})",
            "",
        ]
    )


@dataclass
class _Child:
    name: str
    process: asyncio.subprocess.Process
    log_path: Path
    pump: asyncio.Task[None]
    command: str


async def _drain(child: _Child) -> None:
    """Let the pump copy a dead child's last words into its log before we quote it."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(child.pump), 2.0)


@dataclass
class DevStack:
    """One run of the stack: starts the parts in order, watches them, stops them in reverse order."""

    config: LauncherConfig
    echo: bool
    postgres: PostgresHandle | None = None
    redis: RedisHandle | None = None
    temporal: TemporalHandle | None = None
    children: list[_Child] = field(default_factory=list)
    stop_requested: asyncio.Event = field(default_factory=asyncio.Event)
    child_env: dict[str, str] = field(default_factory=dict)
    worker_metrics_port: int = 0

    def request_stop(self, signal_name: str) -> None:
        if self.stop_requested.is_set():
            _print(f"{signal_name}: already stopping, please wait")
            return
        _print(f"\n{signal_name}: stopping the dev stack ...")
        self.stop_requested.set()

    def _check_stop(self) -> None:
        if self.stop_requested.is_set():
            raise _Interrupted

    # -- start -----------------------------------------------------------------------------------------

    async def start(self) -> StackInfo:
        config = self.config
        config.logs_dir.mkdir(parents=True, exist_ok=True)
        if not port_is_free(config.api_port, API_HOST):
            raise PortInUseError(
                config.api_port, "API", describe_port_holder(config.api_port), "stop it or set API_PORT"
            )

        self.postgres = await ensure_postgres(config.database_url, config.dev_dir / "pgdata")
        self._announce("PostgreSQL", self.postgres.description, self.postgres.note)
        self._check_stop()

        self.redis = await ensure_redis(config.redis_url, config.dev_dir / "redis")
        self._announce("Redis", self.redis.description, self.redis.note)
        self._check_stop()

        self.temporal = await self._ensure_temporal()
        self._announce("Temporal", self.temporal.description, self.temporal.note)
        self._check_stop()

        self.child_env = self._child_environment()
        await self._migrate()
        self._check_stop()

        self.worker_metrics_port = self._worker_metrics_port()
        self.child_env["WORKER_METRICS_PORT"] = str(self.worker_metrics_port)
        self.children.append(await self._spawn("worker", [sys.executable, "worker.py"]))
        api_command = [
            *_script("uvicorn"),
            "api.app:create_app",
            "--factory",
            "--host",
            API_HOST,
            "--port",
            str(config.api_port),
        ]
        self.children.append(await self._spawn("api", api_command))
        api_url = f"http://{API_HOST}:{config.api_port}"
        await self._wait_for_health(f"{api_url}/healthz")
        return self.info("ready")

    def info(self, status: str) -> StackInfo:
        config = self.config
        api_url = f"http://{API_HOST}:{config.api_port}"
        processes = {child.name: child.process.pid for child in self.children}
        commands = {child.name: child.command for child in self.children}
        server = self.temporal.server if self.temporal is not None else None
        if server is not None and server.pid is not None:
            processes["temporal"] = server.pid
            commands["temporal"] = process_command(server.pid)
        return StackInfo(
            launcher_pid=os.getpid(),
            status=status,
            api_url=api_url,
            docs_url=f"{api_url}/docs",
            database_url=self.postgres.url if self.postgres else "",
            redis_url=self.redis.url if self.redis else "",
            temporal_address=self.temporal.address if self.temporal else "",
            temporal_namespace=config.temporal_namespace,
            temporal_ui_url=self.temporal.ui_url if self.temporal else None,
            postgres=self.postgres.description if self.postgres else "",
            redis=self.redis.description if self.redis else "",
            temporal=self.temporal.description if self.temporal else "",
            logs_dir=str(config.logs_dir),
            worker_metrics_url=(
                f"http://{API_HOST}:{self.worker_metrics_port}/metrics" if self.worker_metrics_port else ""
            ),
            processes=processes,
            commands=commands,
        )

    def _worker_metrics_port(self) -> int:
        """WORKER_METRICS_PORT (0: off); by default 9464, or the next free port when another process holds it."""
        config = self.config
        if not config.worker_metrics_port:
            return 0
        return pick_port(
            config.worker_metrics_port,
            what="worker metrics",
            explicit=config.worker_metrics_port_explicit,
            env_var="WORKER_METRICS_PORT",
            host=API_HOST,
        )

    def _announce(self, what: str, description: str, note: str | None) -> None:
        if note:
            _print(f"note: {note}")
        _print(f"{what}: {description}")

    async def _ensure_temporal(self) -> TemporalHandle:
        config = self.config
        port: int | None = None
        ui_port: int | None = None
        address = config.temporal_address
        if not (address and await connect_temporal(address, config.temporal_namespace) is not None):
            port = pick_port(
                config.temporal_port,
                what="Temporal frontend",
                explicit=config.temporal_port_explicit,
                env_var="TEMPORAL_PORT",
            )
            ui_port = pick_port(
                config.temporal_ui_port,
                what="Temporal UI",
                explicit=config.temporal_ui_port_explicit,
                env_var="TEMPORAL_UI_PORT",
            )
            for chosen, wanted, name in (
                (port, config.temporal_port, "TEMPORAL_PORT"),
                (ui_port, config.temporal_ui_port, "TEMPORAL_UI_PORT"),
            ):
                if chosen != wanted:
                    holder = describe_port_holder(wanted)
                    _print(f"note: port {wanted} is held by {holder}; using {chosen} ({name} to choose)")
        return await ensure_temporal(
            address,
            namespace=config.temporal_namespace,
            ui_url=config.temporal_ui_url,
            port=port,
            ui_port=ui_port,
            db_filename=config.dev_dir / "temporal.db",
            log_path=config.logs_dir / "temporal.log",
        )

    def _child_environment(self) -> dict[str, str]:
        assert self.postgres is not None and self.redis is not None and self.temporal is not None
        env = dict(os.environ)
        env.update(
            DATABASE_URL=self.postgres.url,
            REDIS_URL=self.redis.url,
            TEMPORAL_ADDRESS=self.temporal.address,
            TEMPORAL_NAMESPACE=self.temporal.namespace,
            PYTHONUNBUFFERED="1",
        )
        if self.temporal.ui_url:
            env["TEMPORAL_UI_URL"] = self.temporal.ui_url
        return env

    async def _migrate(self) -> None:
        root = self.config.root
        if not (root / "alembic.ini").is_file():
            _print("warning: no alembic.ini: skipping migrations", err=True)
            return
        child = await self._spawn("migrate", [*_script("alembic"), "upgrade", "head"])
        waiter = asyncio.ensure_future(child.process.wait())
        stopper = asyncio.ensure_future(self.stop_requested.wait())
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if not waiter.done():
            await self._terminate(child)
            raise _Interrupted
        await child.pump
        if child.process.returncode != 0:
            raise StartupError(
                f"`alembic upgrade head` failed with code {child.process.returncode} "
                f"(log {_relative(child.log_path, root)}):\n{_tail(child.log_path)}"
            )
        _print("Migrations: alembic upgrade head done")

    async def _spawn(self, name: str, argv: Sequence[str]) -> _Child:
        log_path = self.config.logs_dir / f"{name}.log"
        log_file = log_path.open("wb")
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=self.config.root,
            env=self.child_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the launcher alone gets Ctrl-C, then stops children in order
            preexec_fn=exit_with_parent_preexec(),
        )
        assert process.stdout is not None
        pump = asyncio.create_task(self._pump(name, process.stdout, log_file))
        return _Child(name, process, log_path, pump, " ".join(argv))

    async def _pump(self, name: str, stream: asyncio.StreamReader, log_file: IO[bytes]) -> None:
        prefix = f"{name:<8}| "
        pending = b""
        try:
            while chunk := await stream.read(65536):
                log_file.write(chunk)
                log_file.flush()
                if self.echo:
                    pending += chunk
                    *lines, pending = pending.split(b"\n")
                    for line in lines:
                        sys.stdout.write(prefix + line.decode(errors="replace") + "\n")
                    sys.stdout.flush()
            if self.echo and pending:
                sys.stdout.write(prefix + pending.decode(errors="replace") + "\n")
                sys.stdout.flush()
        finally:
            log_file.close()

    async def _wait_for_health(self, url: str) -> None:
        deadline = time.monotonic() + HEALTH_TIMEOUT
        async with httpx.AsyncClient(timeout=2.0) as client:
            while True:
                self._check_stop()
                for child in self.children:
                    if child.process.returncode is not None:
                        await _drain(child)
                        raise StartupError(
                            f"the {child.name} exited with code {child.process.returncode} while starting "
                            f"(log {_relative(child.log_path, self.config.root)}):\n{_tail(child.log_path)}"
                        )
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(url)).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise StartupError(f"{url} did not answer 200 within {HEALTH_TIMEOUT:.0f} s")
                await asyncio.sleep(0.2)

    # -- run -------------------------------------------------------------------------------------------

    async def supervise(self) -> int:
        """Wait for a stop signal (0) or for a part to die on its own (1)."""
        while not self.stop_requested.is_set():
            for child in self.children:
                code = child.process.returncode
                if code is not None:
                    await _drain(child)
                    _print(
                        f"\nerror: the {child.name} exited unexpectedly with code {code}; last lines of "
                        f"{_relative(child.log_path, self.config.root)}:\n{_tail(child.log_path)}\n"
                        "stopping the rest of the stack",
                        err=True,
                    )
                    return 1
            server = self.temporal.server if self.temporal is not None else None
            if server is not None and server.returncode is not None:
                _print(
                    f"\nerror: the Temporal dev server exited unexpectedly with code {server.returncode}; "
                    f"see {server.log_path}; stopping the rest of the stack",
                    err=True,
                )
                return 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_requested.wait(), 0.5)
        return 0

    # -- stop ------------------------------------------------------------------------------------------

    async def _terminate(self, child: _Child) -> None:
        process = child.process
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), CHILD_STOP_TIMEOUT)
            except TimeoutError:
                _print(f"the {child.name} did not stop within {CHILD_STOP_TIMEOUT:.0f} s: killing it", err=True)
        # Whatever it left in its process group (e.g. a render pool) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(child.pump, 5.0)

    async def shutdown(self) -> None:
        """Stop everything we started: API and worker first, data stores last. Safe after a partial start."""
        running = [child.name for child in self.children if child.process.returncode is None]
        await asyncio.gather(*(self._terminate(child) for child in self.children))
        self.children.clear()
        stopped = list(running)
        for name, handle in (
            ("Temporal", self.temporal),
            ("Redis", self.redis),
            ("PostgreSQL", self.postgres),
        ):
            if handle is None:
                continue
            try:
                await asyncio.to_thread(handle.stop)
            except Exception as exc:  # keep stopping the others
                _print(f"warning: could not stop {name}: {exc}", err=True)
            if handle.embedded:
                stopped.append(name)
        self.temporal = self.redis = self.postgres = None
        if stopped:
            _print(f"stopped: {', '.join(stopped)}")


def _clean_stale_stack(root: Path) -> None:
    """Refuse to start twice; after a launcher that was killed, stop the children it left behind."""
    info = read_stack(root)
    if info is None:
        return
    if pid_is_alive(info.launcher_pid):
        raise StartupError(
            f"a dev stack is already {'running' if info.status == 'ready' else info.status} "
            f"(launcher pid {info.launcher_pid}{', ' + info.docs_url if info.docs_url else ''}); "
            "use it, or stop it with: python -m devstack.launcher --stop"
        )
    for name, pid in info.processes.items():
        recorded = info.commands.get(name, "")
        if recorded and pid_is_alive(pid) and process_command(pid) == recorded:
            _print(f"stopping the {name} left by a previous launcher (pid {pid})")
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGTERM)
    stack_file(root).unlink(missing_ok=True)


async def run_foreground(config: LauncherConfig, *, echo: bool = True) -> int:
    """Run the stack until SIGINT/SIGTERM (exit 0) or a part dies (exit 1)."""
    try:
        _clean_stale_stack(config.root)
    except StartupError as exc:
        _print(f"error: {exc}", err=True)
        return 1
    stack = DevStack(config, echo=echo)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stack.request_stop, signal.Signals(signum).name)
    write_stack(config.root, StackInfo(launcher_pid=os.getpid(), status="starting"))
    try:
        try:
            info = await stack.start()
        except _Interrupted:
            return 0
        except DevStackError as exc:
            _print(f"error: {exc}", err=True)
            return 1
        except Exception as exc:  # a driver's error: say what it was, then stop what did start
            _print(f"error: {type(exc).__name__}: {exc}", err=True)
            return 1
        write_stack(config.root, info)
        _print(banner(info, config.root))
        return await stack.supervise()
    finally:
        await stack.shutdown()
        remove_stack(config.root, os.getpid())


def start_background(root: Path, *, timeout: float = BACKGROUND_TIMEOUT) -> int:
    """Start the launcher detached and return once the stack is ready; reuse a stack that already runs."""
    existing = running_stack(root)
    if existing is not None:
        _print(banner(existing, root).replace("is ready", "is already running", 1))
        return 0
    logs_dir = root / ".dev" / "logs"
    logs_dir.mkdir(parents=True, exist_ok=True)
    log_path = logs_dir / "launcher.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "devstack.launcher", "--root", str(root), "--quiet"],
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives this command; `--stop` ends it
        )
    _print(f"starting the dev stack in the background (launcher pid {process.pid}, log {log_path}) ...")
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                _print(f"error: the dev stack did not start:\n{_tail(log_path)}", err=True)
                return 1
            info = running_stack(root)
            if info is not None and info.launcher_pid == process.pid:
                _print(banner(info, root))
                return 0
            time.sleep(0.2)
        _print(f"error: the dev stack was not ready within {timeout:.0f} s; stopping it", err=True)
    except KeyboardInterrupt:
        _print("interrupted: stopping the dev stack being started", err=True)
    process.terminate()
    process.wait(60)
    return 1


def stop_stack(root: Path, *, timeout: float = 60.0) -> int:
    """Stop a running stack (foreground or background) and wait until it is down."""
    info = read_stack(root)
    if info is None or not pid_is_alive(info.launcher_pid):
        _print("no dev stack is running")
        if info is not None:
            _clean_stale_stack(root)
        return 0
    os.kill(info.launcher_pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pid_is_alive(info.launcher_pid):
        if time.monotonic() > deadline:
            _print(f"error: the launcher (pid {info.launcher_pid}) did not stop within {timeout:.0f} s", err=True)
            return 1
        time.sleep(0.2)
    _print(f"dev stack stopped (launcher pid {info.launcher_pid})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.launcher", description=_DESCRIPTION)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--background", action="store_true", help="start detached; return when healthy")
    mode.add_argument("--stop", action="store_true", help="stop the running stack")
    mode.add_argument("--status", action="store_true", help="print the running stack; exit 1 if none")
    parser.add_argument("--quiet", action="store_true", help="do not echo the children's logs")
    parser.add_argument("--root", type=Path, default=None, help="the repository (default: here)")
    args = parser.parse_args(argv)
    root = (args.root or default_root()).resolve()

    if args.stop:
        return stop_stack(root)
    if args.status:
        info = running_stack(root)
        if info is None:
            _print("no dev stack is running")
            return 1
        _print(banner(info, root).replace("is ready", "is running", 1))
        return 0
    if args.background:
        return start_background(root)
    try:
        config = LauncherConfig.from_environment(root)
    except StartupError as exc:
        _print(f"error: {exc}", err=True)
        return 1
    return asyncio.run(run_foreground(config, echo=not args.quiet))


if __name__ == "__main__":
    raise SystemExit(main())
