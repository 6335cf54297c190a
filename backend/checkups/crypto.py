"""Check-up answers and individual scores are sealed at rest with AES-256-GCM.

The key is ``PROBITY_CHECKUP_KEY`` when set (any string: it is hashed to 32 bytes), otherwise
derived from ``PROBITY_SECRET_KEY`` with a label of its own, so the trail's key and this one
never coincide. Every sealed value is bound to the row it belongs to (associated data), so a
ciphertext copied onto another person's row does not open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from backend.kernel.errors import AppError
from backend.kernel.settings import Settings

PREFIX = "v1:"
LABEL = b"probity/checkup-at-rest/v1"


def checkup_key(settings: Settings) -> bytes:
    if settings.checkup_key is not None and settings.checkup_key.get_secret_value():
        return hashlib.sha256(LABEL + settings.checkup_key.get_secret_value().encode()).digest()
    return hmac.new(settings.secret_key.get_secret_value().encode(), LABEL, hashlib.sha256).digest()


class Sealer:
    """Seal and open JSON values; ``aad`` names the row (e.g. ``response:12``)."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the check-up key must be 32 bytes")
        self._aead = AESGCM(key)

    @classmethod
    def from_settings(cls, settings: Settings) -> Sealer:
        return cls(checkup_key(settings))

    def seal(self, value: Any, aad: str) -> str:
        nonce = os.urandom(12)
        plain = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        box = self._aead.encrypt(nonce, plain, aad.encode())
        return PREFIX + base64.b64encode(nonce + box).decode("ascii")

    def open(self, token: str, aad: str) -> Any:
        if not token.startswith(PREFIX):
            raise SealError(f"sealed value for {aad} has an unknown format")
        raw = base64.b64decode(token[len(PREFIX) :])
        try:
            plain = self._aead.decrypt(raw[:12], raw[12:], aad.encode())
        except InvalidTag as exc:
            raise SealError(f"sealed value for {aad} does not open with this key") from exc
        return json.loads(plain)


class SealError(AppError):
    """Wrong key or a value moved between rows: an operator problem, never the user's."""

    status = 500
    code = "checkup_key_mismatch"
