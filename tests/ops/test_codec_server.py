"""The codec server mounted in the API: Temporal's codec protocol behind the operator token, CORS for the Temporal
UI's origin only, the UI's session cookie, and the real `temporal workflow show --codec-endpoint` reading clear
payloads of an encrypted run whose raw history stays ciphertext."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import httpx
import pytest_asyncio
import uvicorn
import yaml
from google.protobuf import json_format
from pydantic import SecretStr
from starlette.types import ASGIApp
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from devstack.binaries import temporal_cli_path
from models.settings import Settings
from ops.codec import AesGcmCodec
from ops.codec_server import SESSION_COOKIE
from tests.conftest import ROOT, SAMPLES, open_stack
from tests.ops.test_codec import CODEC_TOKEN, assert_ciphertext_only, clear_payload, key_setting, new_key, raw_history

KEY = new_key("test-key")
UI_ORIGIN = "http://localhost:8233"  # the default TEMPORAL_UI_URL, so the default CODEC_CORS_ORIGINS
BEARER = {"Authorization": f"Bearer {CODEC_TOKEN}"}
# Payload metadata values as protobuf JSON (and the temporal CLI) print them: base64.
ENCRYPTED = base64.b64encode(b"binary/encrypted").decode()
JSON_PLAIN = base64.b64encode(b"json/plain").decode()


def codec_settings(base: Settings, task_queue: str = "cv-improver-codec-server") -> Settings:
    return base.model_copy(
        update={
            "temporal_task_queue": task_queue,
            "payload_encryption_keys": SecretStr(key_setting(KEY)),
            "codec_server_token": SecretStr(CODEC_TOKEN),
        }
    )


@pytest_asyncio.fixture(scope="module")
async def api(base_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API app with the codec server mounted (the codec routes need none of the API's services)."""
    transport = httpx.ASGITransport(app=create_app(codec_settings(base_settings)))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


def as_json(*payloads: Payload) -> str:
    return json_format.MessageToJson(Payloads(payloads=payloads))


def from_json(text: str) -> list[Payload]:
    return list(json_format.Parse(text, Payloads()).payloads)


async def test_encode_then_decode_speaks_the_codec_protocol(api: httpx.AsyncClient) -> None:
    headers = {**BEARER, "Content-Type": "application/json", "X-Namespace": "default"}
    encoded = await api.post("/codec/encode", content=as_json(clear_payload(), clear_payload(b'"x"')), headers=headers)
    assert encoded.status_code == 200, encoded.text
    assert encoded.headers["content-type"] == "application/json"
    body = encoded.json()
    assert [p["metadata"]["encoding"] for p in body["payloads"]] == [ENCRYPTED] * 2
    assert "Jane" not in encoded.text
    # What the server encrypts, our processes decrypt, and back.
    assert await AesGcmCodec([KEY]).decode(from_json(encoded.text)) == [clear_payload(), clear_payload(b'"x"')]
    decoded = await api.post("/codec/decode", content=encoded.text, headers=headers)
    assert decoded.status_code == 200, decoded.text
    assert from_json(decoded.text) == [clear_payload(), clear_payload(b'"x"')]
    # Clear payloads (histories from before encryption) come back as they are.
    passthrough = await api.post("/codec/decode", content=as_json(clear_payload()), headers=headers)
    assert from_json(passthrough.text) == [clear_payload()]


async def test_without_the_operator_token_nothing_is_decoded(api: httpx.AsyncClient) -> None:
    [encrypted] = await AesGcmCodec([KEY]).encode([clear_payload()])
    for headers in (
        {},
        {"Authorization": "Bearer not-the-operator-token"},
        {"Authorization": f"Basic {CODEC_TOKEN}"},
        {"Authorization": f"Bearer {CODEC_TOKEN}x"},
        {"Cookie": f"{SESSION_COOKIE}=forged.cookie.value"},
    ):
        for path in ("/codec/decode", "/codec/encode"):
            r = await api.post(path, content=as_json(encrypted), headers=headers)
            assert r.status_code == 401, (headers, r.text)
            assert r.headers["content-type"] == "application/problem+json"
            assert r.headers["www-authenticate"] == "Bearer"
            assert r.json()["code"] == "codec_unauthorized" and "Jane" not in r.text


async def test_bad_bodies_and_undecryptable_payloads_are_problems(api: httpx.AsyncClient) -> None:
    r = await api.post("/codec/decode", content=b"not json", headers=BEARER)
    assert r.status_code == 400 and r.json()["code"] == "invalid_payloads"
    [foreign] = await AesGcmCodec([new_key("retired-key")]).encode([clear_payload()])
    r = await api.post("/codec/decode", content=as_json(foreign), headers=BEARER)
    assert r.status_code == 422 and r.json()["code"] == "undecryptable_payload"
    assert "unknown key id 'retired-key'" in r.json()["detail"] and "Jane" not in r.text


async def test_the_codec_server_exists_only_with_keys_and_token(base_settings: Settings) -> None:
    keys_only = base_settings.model_copy(
        update={"payload_encryption_keys": codec_settings(base_settings).payload_encryption_keys}
    )
    for settings in (base_settings, keys_only):
        transport = httpx.ASGITransport(app=create_app(settings))
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            r = await client.post("/codec/decode", content=as_json(clear_payload()), headers=BEARER)
            assert r.status_code == 404


async def test_cors_allows_the_temporal_ui_origin_only(api: httpx.AsyncClient) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
    }
    allowed = await api.options("/codec/decode", headers={"Origin": UI_ORIGIN, **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == UI_ORIGIN
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert {h.strip().lower() for h in allowed.headers["access-control-allow-headers"].split(",")} >= {
        "authorization",
        "content-type",
        "x-namespace",
    }
    assert "POST" in allowed.headers["access-control-allow-methods"]

    refused = await api.options("/codec/decode", headers={"Origin": "https://evil.example", **preflight})
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    # A browser on another origin never gets to read an answer, even a successful one.
    answer = await api.post(
        "/codec/decode", content=as_json(clear_payload()), headers={**BEARER, "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in answer.headers
    answer = await api.post("/codec/decode", content=as_json(clear_payload()), headers={**BEARER, "Origin": UI_ORIGIN})
    assert answer.headers["access-control-allow-origin"] == UI_ORIGIN
    # CORS is the codec server's alone: the rest of the API answers no browser origin.
    api_preflight = await api.options("/auth/login", headers={"Origin": UI_ORIGIN, **preflight})
    assert "access-control-allow-origin" not in api_preflight.headers


async def test_the_ui_session_cookie_is_set_by_the_operator_token_only(base_settings: Settings) -> None:
    transport = httpx.ASGITransport(app=create_app(codec_settings(base_settings)))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as browser:
        page = await browser.get("/codec/session")
        assert page.status_code == 200 and "<form" in page.text and "name=token" in page.text
        assert page.headers["cache-control"] == "no-store"
        wrong = await browser.post("/codec/session", data={"token": "not-the-operator-token"})
        assert wrong.status_code == 401 and SESSION_COOKIE not in browser.cookies
        [encrypted] = await AesGcmCodec([KEY]).encode([clear_payload()])
        assert (await browser.post("/codec/decode", content=as_json(encrypted))).status_code == 401

        signed_in = await browser.post("/codec/session", data={"token": CODEC_TOKEN})
        assert signed_in.status_code == 200
        cookie = signed_in.headers["set-cookie"]
        assert (
            "HttpOnly" in cookie and "Path=/codec" in cookie and "SameSite=lax" in cookie and "Max-Age=28800" in cookie
        )
        decoded = await browser.post("/codec/decode", content=as_json(encrypted), headers={"Origin": UI_ORIGIN})
        assert decoded.status_code == 200 and from_json(decoded.text) == [clear_payload()]


# --- the temporal CLI against a real encrypted run ---------------------------------------------------------------


@contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    """The app under uvicorn on a free port, in a thread of its own; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


async def temporal_cli(*args: str) -> subprocess.CompletedProcess[str]:
    # Our flags only: TEMPORAL_CODEC_ENDPOINT and friends in the caller's environment would change the answer.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
    return await asyncio.to_thread(
        subprocess.run, [temporal_cli_path(), *args], capture_output=True, text=True, timeout=60, check=False, env=env
    )


async def test_temporal_workflow_show_reads_clear_payloads_through_the_codec_server(
    temporal_env: WorkflowEnvironment, base_settings: Settings
) -> None:
    settings = codec_settings(base_settings, "cv-improver-codec-cli")
    async with open_stack(temporal_env, settings) as stack:
        headers = await stack.user()
        cv = await stack.upload(headers, "jane.md", (SAMPLES / "jane-doe-cv.md").read_bytes())
        target = {"position": "Staff Engineer", "theme": "compact", "paper": "Letter"}
        r = await stack.http.post(f"/cvs/{cv['id']}/improvements", headers=headers, json=target)
        assert r.status_code == 202, r.text
        accepted = r.json()
        user_id = (await stack.http.get("/me", headers=headers)).json()["id"]
        assert (await stack.wait_finished(headers, accepted["improvement_id"]))["stage"] == "completed"

    show = [
        "workflow",
        "show",
        "--address",
        temporal_env.client.service_client.config.target_host,
        "--namespace",
        temporal_env.client.namespace,
        "--workflow-id",
        accepted["workflow_id"],
        "--output",
        "json",
    ]
    with serve(create_app(settings)) as url:
        endpoint = ["--codec-endpoint", f"{url}/codec"]
        clear = await temporal_cli(*show, *endpoint, "--codec-auth", f"Bearer {CODEC_TOKEN}")
        wrong = ["--codec-auth", "Bearer not-the-operator-token", "--command-timeout", "2s"]
        refused = await temporal_cli(*show, *endpoint, *wrong)
    plain = await temporal_cli(*show)

    # Through the codec server, the operator reads the run's input and summary in clear ...
    assert clear.returncode == 0, clear.stderr
    first = json.loads(clear.stdout)["events"][0]
    [payload] = first["workflowExecutionStartedEventAttributes"]["input"]["payloads"]
    assert payload["metadata"]["encoding"] == JSON_PLAIN
    assert json.loads(base64.b64decode(payload["data"])) == {
        "improvement_id": accepted["improvement_id"],
        "user_id": user_id,
        "theme": "compact",
        "paper": "Letter",
        "language": "en",
    }
    summary = json.loads(base64.b64decode(first["userMetadata"]["summary"]["data"]))
    assert summary.endswith("theme compact, Letter, language en")
    assert ENCRYPTED not in clear.stdout, "every payload should be decoded"

    # ... while without it, or with a wrong token, the CLI sees what the server holds: ciphertext.
    assert plain.returncode == 0, plain.stderr
    first = json.loads(plain.stdout)["events"][0]
    [payload] = first["workflowExecutionStartedEventAttributes"]["input"]["payloads"]
    assert payload["metadata"] == {"encoding": ENCRYPTED, "encryption-key-id": base64.b64encode(b"test-key").decode()}
    assert b"compact" not in base64.b64decode(payload["data"])
    assert refused.returncode != 0 and "compact" not in refused.stdout + refused.stderr
    assert_ciphertext_only(await raw_history(temporal_env, accepted["workflow_id"]), ["compact", "Staff Engineer"])


def test_compose_turns_encryption_on_and_points_the_ui_at_the_codec_server() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    app_env = compose["x-app-environment"]
    # Required like JWT_SECRET: compose refuses to start without them.
    assert app_env["PAYLOAD_ENCRYPTION_KEYS"].startswith("${PAYLOAD_ENCRYPTION_KEYS:?")
    assert app_env["CODEC_SERVER_TOKEN"].startswith("${CODEC_SERVER_TOKEN:?")
    for name in ("api", "worker"):
        env = compose["services"][name]["environment"]
        assert env["PAYLOAD_ENCRYPTION_KEYS"] == app_env["PAYLOAD_ENCRYPTION_KEYS"]
        assert env["CODEC_SERVER_TOKEN"] == app_env["CODEC_SERVER_TOKEN"]
    ui_env = compose["services"]["temporal-ui"]["environment"]
    assert ui_env["TEMPORAL_CODEC_ENDPOINT"].endswith(":-http://127.0.0.1:8000/codec}")
    assert ui_env["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"
    # The UI's origin is the one the codec server allows by default.
    ui_port = compose["services"]["temporal-ui"]["ports"][0].split(":")[1]
    assert app_env["TEMPORAL_UI_URL"].endswith(f":-http://127.0.0.1:{ui_port}}}")
