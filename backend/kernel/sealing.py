"""Values sealed at rest with AES-256-GCM, each bound to the row it belongs to.

Keys are derived from ``PROBITY_SECRET_KEY`` with a label per use (:func:`derived_key`), so no
two uses share a key: check-up answers (``backend/checkups/crypto.py``), channel secrets, and so
on. ``aad`` names the row (e.g. ``response:12``): a sealed value copied onto another row does not
open. A sealed value is text: ``v1:`` and base64 of nonce and ciphertext.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from typing import Any, ClassVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from backend.kernel.settings import Settings

PREFIX = "v1:"


def derived_key(settings: Settings, label: bytes) -> bytes:
    """A 32-byte key for one use, from the secret key and that use's label."""
    return hmac.new(settings.secret_key.get_secret_value().encode(), label, hashlib.sha256).digest()


class SealBroken(ValueError):
    """A sealed value that does not open: another key, another row, or not a sealed value."""


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


class Sealer:
    """Seal and open JSON values with one key."""

    #: raised when a value does not open (a feature may raise its own error)
    error: ClassVar[type[Exception]] = SealBroken

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("a sealing key must be 32 bytes")
        self._aead = AESGCM(key)

    def seal(self, value: Any, aad: str) -> str:
        nonce = os.urandom(12)
        plain = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        box = self._aead.encrypt(nonce, plain, aad.encode())
        return PREFIX + base64.b64encode(nonce + box).decode("ascii")

    def open(self, token: str, aad: str) -> Any:
        if not is_sealed(token):
            raise self.error(f"sealed value for {aad} has an unknown format")
        raw = base64.b64decode(token[len(PREFIX) :])
        try:
            plain = self._aead.decrypt(raw[:12], raw[12:], aad.encode())
        except InvalidTag as exc:
            raise self.error(f"sealed value for {aad} does not open with this key") from exc
        return json.loads(plain)
