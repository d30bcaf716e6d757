"""A real OpenID Connect provider for the Google sign-in tests (oauth2-mock-server from npm, tests/oidc/), and
a stack whose Google sign-in points at it. Imported by tests/accounts/test_google_*.py."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from models.settings import Settings
from tests.conftest import ROOT, Stack, open_stack

OIDC_DIR = ROOT / "tests" / "oidc"
CLIENT_ID = "cvimprover-test-client"
CLIENT_SECRET = "cvimprover-test-secret"
API_BASE = "http://api.test"  # the in-process API's base URL (tests/conftest.py), also PUBLIC_API_URL


@dataclass
class OidcProvider:
    issuer: str
    control: Path

    def next_sign_in(self, **claims: Any) -> None:
        """Claims merged into the next id_tokens (sub, email, email_verified, name; `override` to tamper)."""
        self.control.write_text(json.dumps(claims))

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ensure_installed() -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the Google sign-in tests need it (oauth2-mock-server)")
    if not (OIDC_DIR / "node_modules" / "oauth2-mock-server").is_dir():
        # `make test` installs it; a bare pytest run does it here (the registry cache answers offline).
        if shutil.which("npm") is None:
            pytest.skip("npm is not installed and tests/oidc/node_modules is missing (oauth2-mock-server)")
        command = "ci" if (OIDC_DIR / "package-lock.json").exists() else "install"
        subprocess.run(["npm", command, "--no-audit", "--no-fund", "--prefix", str(OIDC_DIR)], check=True)


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProvider]:
    """`node tests/oidc/server.mjs PORT CONTROL` on 127.0.0.1, for the whole session."""
    _ensure_installed()
    control_dir = Path(tempfile.mkdtemp(prefix="oidc-"))
    control = control_dir / "claims.json"
    port = _free_port()
    process = subprocess.Popen(
        ["node", str(OIDC_DIR / "server.mjs"), str(port), str(control)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "NODE_NO_WARNINGS": "1"},
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 20
        issuer = None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            if line.startswith("oidc-ready "):
                issuer = line.split(maxsplit=1)[1].strip()
                break
        assert issuer, f"the OIDC provider did not start (exit code {process.poll()})"
        httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=5).raise_for_status()
        yield OidcProvider(issuer=issuer, control=control)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(control_dir, ignore_errors=True)


@pytest_asyncio.fixture(scope="session")
async def google_stack(
    temporal_env: WorkflowEnvironment, base_settings: Settings, oidc_provider: OidcProvider
) -> AsyncIterator[Stack]:
    """The API with Google sign-in configured against the local provider (no worker: none is needed)."""
    settings = base_settings.model_copy(
        update={
            "google_client_id": CLIENT_ID,
            "google_client_secret": SecretStr(CLIENT_SECRET),
            "google_discovery_url": oidc_provider.discovery_url,
            "public_api_url": API_BASE,
            "temporal_task_queue": "cv-improver-google-test",
        }
    )
    async with open_stack(temporal_env, settings, worker=False) as s:
        yield s
