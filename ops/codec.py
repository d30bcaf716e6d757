"""The payload codec: every payload our processes send to Temporal is encrypted with AES-256-GCM, so workflow
inputs, results, activity arguments, summaries and failure messages are ciphertext on the Temporal server.

An encrypted payload holds the whole original Payload (metadata and data) as its plaintext, a random 12-byte nonce
in front of the ciphertext, and the id of its key in its metadata; the key id is also the associated data, so a
payload moved under another key id fails authentication. Several keys may be configured: the first encrypts,
all decrypt, which is how keys are rotated. Payloads that are not encrypted pass through decode untouched, so
histories written before encryption was turned on still read.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from models.settings import Settings

ENCRYPTED_ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
NONCE_BYTES = 12


class PayloadDecryptionError(Exception):
    """A payload that cannot be decrypted: unknown key id, or tampered with. Names the key id, never the data."""


class AesGcmCodec(PayloadCodec):
    """AES-256-GCM encryption of whole payloads; `keys` are (key id, 32-byte key), the first one current."""

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise ValueError("AesGcmCodec needs at least one key")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys}
        if len(self._ciphers) != len(keys):
            raise ValueError("encryption key ids must be unique")
        self.current_key_id = keys[0][0]
        self.key_ids = tuple(key_id for key_id, _ in keys)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self.current_key_id.encode()
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = self._ciphers[self.current_key_id].encrypt(nonce, payload.SerializeToString(), key_id)
        return Payload(
            metadata={"encoding": ENCRYPTED_ENCODING, KEY_ID_METADATA: key_id},
            data=nonce + ciphertext,
        )

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCRYPTED_ENCODING:
            return payload
        raw_key_id = payload.metadata.get(KEY_ID_METADATA, b"")
        key_id = raw_key_id.decode("utf-8", errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            known = ", ".join(self.key_ids)
            raise PayloadDecryptionError(
                f"payload encrypted with unknown key id {key_id!r}; configured key ids: {known}"
            )
        data = payload.data
        try:
            plaintext = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], raw_key_id)
        except (InvalidTag, ValueError):
            raise PayloadDecryptionError(
                f"payload encrypted with key id {key_id!r} failed authentication: tampered with, or a different key"
                " under that id"
            ) from None
        return Payload.FromString(plaintext)


def payload_codec(settings: Settings) -> AesGcmCodec | None:
    """The codec for PAYLOAD_ENCRYPTION_KEYS, or None when they are unset (payloads in clear)."""
    keys = settings.payload_encryption_keyring
    return AesGcmCodec(keys) if keys else None
