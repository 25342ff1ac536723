"""Envelope encryption for a group's confidential space (AES-256-GCM from `cryptography`).

Each group has a random data key, stored only wrapped by a key-encryption key (KEK) from the
environment (HORIZONTAL_KEYS, never derived from SECRET_KEY). The first KEK wraps new keys;
older ones still unwrap, so a KEK can be rotated with `groups.services.group_key_rewrap`.
Ciphertexts are bound to their group's schema name, so one cannot be moved to another group.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class KeyDestroyed(Exception):
    """The group's data key is gone: its confidential entries can no longer be read."""


def _keks() -> list[tuple[str, AESGCM]]:
    keys = []
    for encoded in settings.HORIZONTAL_KEYS:
        raw = base64.urlsafe_b64decode(encoded)
        if len(raw) != 32:
            raise ImproperlyConfigured("Each HORIZONTAL_KEYS entry must be 32 bytes, base64.")
        keys.append((hashlib.sha256(raw).hexdigest()[:12], AESGCM(raw)))
    if not keys:
        raise ImproperlyConfigured("Set HORIZONTAL_KEYS (see README, Configuration).")
    return keys


def kek_id_current() -> str:
    return _keks()[0][0]


def wrap(data_key: bytes, *, schema: str) -> str:
    """Encrypt a data key with the current KEK: 'kek-id:nonce:ciphertext' (base64)."""
    kek_id, kek = _keks()[0]
    nonce = os.urandom(12)
    sealed = kek.encrypt(nonce, data_key, schema.encode())
    return ":".join([kek_id, base64.b64encode(nonce).decode(), base64.b64encode(sealed).decode()])


def unwrap(wrapped: str, *, schema: str) -> bytes:
    kek_id, nonce, sealed = wrapped.split(":")
    for candidate_id, kek in _keks():
        if candidate_id == kek_id:
            return kek.decrypt(base64.b64decode(nonce), base64.b64decode(sealed), schema.encode())
    raise ImproperlyConfigured(f"No key in HORIZONTAL_KEYS has id {kek_id}; keep old keys listed.")


def seal(data_key: bytes, plaintext: str, *, schema: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(data_key).encrypt(nonce, plaintext.encode(), schema.encode())


def open_sealed(data_key: bytes, blob: bytes, *, schema: str) -> str:
    blob = bytes(blob)
    return AESGCM(data_key).decrypt(blob[:12], blob[12:], schema.encode()).decode()


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)
