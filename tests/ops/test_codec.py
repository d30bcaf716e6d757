"""The payload codec: AES-256-GCM round trips, key rotation, tampering, clear payloads from before encryption, the
settings that configure it, and a whole improvement and a Stripe checkout run with encryption on while the
history on the Temporal server holds only ciphertext."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator

import pytest
from google.protobuf.message import Message
from pydantic import SecretStr, ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import History
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from models.billing import subscription_workflow_id
from models.settings import Settings
from ops.codec import ENCRYPTED_ENCODING, KEY_ID_METADATA, AesGcmCodec, PayloadDecryptionError
from ops.temporal import data_converter
from tests.billing.conftest import PRICES, WEBHOOK_SECRET, Billing, billing_settings
from tests.conftest import SAMPLES, open_stack
from tests.fakes.stripe_server import FakeStripe

CODEC_TOKEN = "operator-token-for-the-codec-tests"
SECRET = b'{"name": "Jane Doe", "email": "jane.doe@example.com"}'


@pytest.fixture(scope="module")
def stripe() -> Iterator[FakeStripe]:
    with FakeStripe(prices=PRICES, webhook_secret=WEBHOOK_SECRET) as fake:
        yield fake


def new_key(key_id: str) -> tuple[str, bytes]:
    return key_id, os.urandom(32)


def key_setting(*keys: tuple[str, bytes]) -> str:
    return ",".join(f"{key_id}:{base64.b64encode(key).decode()}" for key_id, key in keys)


def encrypted_settings(base: Settings, task_queue: str, *keys: tuple[str, bytes]) -> Settings:
    """Settings of a stack whose payloads are encrypted and whose API mounts the codec server."""
    return base.model_copy(
        update={
            "temporal_task_queue": task_queue,
            "payload_encryption_keys": SecretStr(key_setting(*(keys or (new_key("test-key"),)))),
            "codec_server_token": SecretStr(CODEC_TOKEN),
        }
    )


def clear_payload(data: bytes = SECRET) -> Payload:
    return Payload(metadata={"encoding": b"json/plain", "messageType": b"Resume"}, data=data)


def payloads_in(message: Message) -> Iterator[Payload]:
    """Every Payload in a history except those Temporal and its SDK keep clear by design: search attributes and
    headers (ids and trace context) and the local-activity markers' `data` (sequence number, attempt, activity
    type and times; the activity's result sits beside it, encrypted)."""
    marker = message.DESCRIPTOR.name == "MarkerRecordedEventAttributes"
    for field, value in message.ListFields():
        if field.message_type is None or field.name in ("search_attributes", "header"):
            continue
        if field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            if value_field.message_type is None:
                continue
            items = [v for k, v in value.items() if not (marker and field.name == "details" and k == "data")]
            is_payload = value_field.message_type.full_name == Payload.DESCRIPTOR.full_name
        else:
            items = list(value) if field.is_repeated else [value]
            is_payload = field.message_type.full_name == Payload.DESCRIPTOR.full_name
        for item in items:
            if is_payload:
                yield item
            else:
                yield from payloads_in(item)


async def raw_history(env: WorkflowEnvironment, workflow_id: str) -> History:
    """The history as the Temporal server stores it: fetched by a client without our codec."""
    config = env.client.config()
    config["data_converter"] = pydantic_data_converter
    config["interceptors"] = []
    plain = Client(**config)
    return History(events=(await plain.get_workflow_handle(workflow_id).fetch_history()).events)


def assert_ciphertext_only(history: History, clear_texts: list[str]) -> int:
    payloads = list(payloads_in(history))
    assert payloads, "the history should carry payloads"
    for payload in payloads:
        assert payload.metadata["encoding"] == ENCRYPTED_ENCODING, payload.metadata
        assert payload.metadata[KEY_ID_METADATA] == b"test-key"
    raw = history.SerializeToString()
    for text in clear_texts:
        assert text.encode() not in raw, f"{text!r} is readable on the Temporal server"
    return len(payloads)


# --- the codec --------------------------------------------------------------------------------------------------


async def test_a_payload_round_trips_and_is_ciphertext_in_between() -> None:
    codec = AesGcmCodec([new_key("k1")])
    original = clear_payload()
    [encrypted] = await codec.encode([original])
    assert encrypted.metadata["encoding"] == b"binary/encrypted"
    assert encrypted.metadata["encryption-key-id"] == b"k1"
    assert set(encrypted.metadata) == {"encoding", "encryption-key-id"}, "the original metadata is encrypted too"
    assert b"Jane" not in encrypted.data and b"Resume" not in encrypted.data
    [again] = await codec.encode([original])
    assert again.data[:12] != encrypted.data[:12], "every payload gets a fresh nonce"
    assert await codec.decode([encrypted, again]) == [original, original]


async def test_rotation_the_new_key_encrypts_and_the_old_one_still_decrypts() -> None:
    old, new = new_key("2025-01"), new_key("2026-06")
    before = AesGcmCodec([old])
    after = AesGcmCodec([new, old])
    [written_before] = await before.encode([clear_payload()])
    [written_after] = await after.encode([clear_payload()])
    assert written_after.metadata["encryption-key-id"] == b"2026-06"
    assert await after.decode([written_before, written_after]) == [clear_payload(), clear_payload()]
    with pytest.raises(PayloadDecryptionError, match="unknown key id '2026-06'; configured key ids: 2025-01"):
        await before.decode([written_after])


async def test_a_tampered_payload_is_refused_with_its_key_id_and_without_its_data() -> None:
    one, two = new_key("k1"), new_key("k2")
    codec = AesGcmCodec([one, two])
    [encrypted] = await codec.encode([clear_payload()])
    flipped = Payload()
    flipped.CopyFrom(encrypted)
    flipped.data = encrypted.data[:-1] + bytes([encrypted.data[-1] ^ 1])
    moved = Payload()
    moved.CopyFrom(encrypted)
    moved.metadata["encryption-key-id"] = b"k2"  # the key id is associated data: relabelling fails too
    truncated = Payload(metadata=encrypted.metadata, data=encrypted.data[:8])
    for bad, key_id in ((flipped, "k1"), (moved, "k2"), (truncated, "k1")):
        with pytest.raises(PayloadDecryptionError) as caught:
            await codec.decode([bad])
        assert f"key id '{key_id}' failed authentication" in str(caught.value)
        assert "Jane" not in str(caught.value) and base64.b64encode(one[1]).decode() not in str(caught.value)


async def test_payloads_written_before_encryption_pass_through_decode() -> None:
    codec = AesGcmCodec([new_key("k1")])
    clear = clear_payload()
    binary_null = Payload(metadata={"encoding": b"binary/null"})
    assert await codec.decode([clear, binary_null]) == [clear, binary_null]


async def test_failure_messages_are_encrypted_with_the_payloads(base_settings: Settings) -> None:
    converter = data_converter(encrypted_settings(base_settings, "unused"))
    failure = Failure()
    await converter.encode_failure(ApplicationError("no employer named Jane Doe"), failure)
    assert "Jane Doe" not in failure.message and "Jane Doe" not in failure.stack_trace
    assert failure.encoded_attributes.metadata["encoding"] == ENCRYPTED_ENCODING
    assert "Jane Doe" in str(await converter.decode_failure(failure))
    assert data_converter(base_settings) is pydantic_data_converter, "without keys payloads stay as they were"


# --- settings ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("k1", "entry 1 must be <key id>:<base64 key>"),
        ("k1:" + base64.b64encode(os.urandom(32)).decode() + ",bad id!:AAAA", "entry 2 must be <key id>:<base64 key>"),
        ("k1:not-base64!!", "key 'k1' is not valid base64"),
        ("k1:" + base64.b64encode(os.urandom(16)).decode(), "key 'k1' must be 32 bytes (AES-256), got 16"),
        ("k1:{k},k1:{k}", "names key id 'k1' twice"),
        (" , ", "PAYLOAD_ENCRYPTION_KEYS holds no key"),
        ("  ", None),
    ],
)
def test_encryption_keys_are_checked_at_start_up(value: str, message: str | None) -> None:
    value = value.replace("{k}", base64.b64encode(os.urandom(32)).decode())
    if message is None:
        assert Settings(_env_file=None, payload_encryption_keys=value).payload_encryption_keys is None
        return
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, payload_encryption_keys=value)
    assert message in str(caught.value)
    for part in value.replace(",", ":").split(":")[1:]:
        if len(part) > 8:
            assert part not in str(caught.value), "the error must not echo key material"


def test_the_first_key_is_current_and_the_codec_origins_default_to_the_temporal_ui() -> None:
    one, two = new_key("new"), new_key("old")
    settings = Settings(
        _env_file=None,
        payload_encryption_keys=key_setting(one, two),
        codec_server_token=CODEC_TOKEN,
        temporal_ui_url="http://127.0.0.1:8233/",
    )
    assert settings.payload_encryption_keyring == [one, two]
    assert settings.codec_server_configured and settings.codec_cors_origin_list == ["http://127.0.0.1:8233"]
    with pytest.raises(ValidationError, match="CODEC_SERVER_TOKEN must be at least 16 characters"):
        Settings(_env_file=None, codec_server_token="short")
    assert not Settings(_env_file=None, payload_encryption_keys=key_setting(one)).codec_server_configured


# --- a whole stack with encryption on ---------------------------------------------------------------------------


async def test_an_improvement_and_a_checkout_run_encrypted_and_the_server_holds_ciphertext(
    temporal_env: WorkflowEnvironment, base_settings: Settings, stripe: FakeStripe
) -> None:
    settings = billing_settings(base_settings, stripe, "cv-improver-encrypted")
    settings = settings.model_copy(
        update={
            "payload_encryption_keys": SecretStr(key_setting(new_key("test-key"))),
            "codec_server_token": SecretStr(CODEC_TOKEN),
        }
    )
    async with open_stack(temporal_env, settings) as stack:
        billing = Billing(stack, stripe)
        headers, user_id = await billing.user()
        cv = await stack.upload(headers, "jane.md", (SAMPLES / "jane-doe-cv.md").read_bytes())
        target = {"position": "Senior Backend Engineer", "theme": "modern", "paper": "Letter"}
        r = await stack.http.post(f"/cvs/{cv['id']}/improvements", headers=headers, json=target)
        assert r.status_code == 202, r.text
        improvement = await stack.wait_finished(headers, r.json()["improvement_id"])
        assert improvement["stage"] == "completed", improvement
        assert improvement["result"]["basics"]["name"] == "Jane Doe"
        assert [w["name"] for w in improvement["result"]["work"]] == ["Brightwave Payments", "Northfield Analytics"]
        pdf = await stack.http.get(f"/improvements/{improvement['id']}/pdf", headers=headers)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

        await billing.subscribe(headers, "pro")
        assert (await billing.subscription(headers))["plan"] == "pro"

        # Our client (with the codec) reads the workflow's own answers in clear ...
        handle = stack.client.get_workflow_handle(r.json()["workflow_id"])
        progress = await handle.result()
        assert progress["stage"] == "completed" and progress["percent"] == 100
        # ... while the Temporal server holds ciphertext only.
        me = (await stack.http.get("/me", headers=headers)).json()
        clear = ["Jane Doe", "Brightwave", me["email"], "Senior Backend Engineer", "modern", "Letter"]
        improvement_payloads = assert_ciphertext_only(await raw_history(temporal_env, handle.id), clear)
        assert improvement_payloads >= 10, "input, activity inputs and results, summaries, the result"
        subscription = await raw_history(temporal_env, subscription_workflow_id(uuid.UUID(str(user_id))))
        assert_ciphertext_only(subscription, [me["email"], "price_pro_monthly"])
