"""Check-up answers and individual scores are sealed at rest with AES-256-GCM.

The key is ``PROBITY_CHECKUP_KEY`` when set (any string: it is hashed to 32 bytes), otherwise
derived from ``PROBITY_SECRET_KEY`` with a label of its own, so the trail's key and this one
never coincide. Every sealed value is bound to the row it belongs to (associated data), so a
ciphertext copied onto another person's row does not open (``backend/kernel/sealing.py``).
"""

from __future__ import annotations

import hashlib

from backend.kernel import sealing
from backend.kernel.errors import AppError
from backend.kernel.settings import Settings

PREFIX = sealing.PREFIX
LABEL = b"probity/checkup-at-rest/v1"


def checkup_key(settings: Settings) -> bytes:
    if settings.checkup_key is not None and settings.checkup_key.get_secret_value():
        return hashlib.sha256(LABEL + settings.checkup_key.get_secret_value().encode()).digest()
    return sealing.derived_key(settings, LABEL)


class SealError(AppError):
    """Wrong key or a value moved between rows: an operator problem, never the user's."""

    status = 500
    code = "checkup_key_mismatch"


class Sealer(sealing.Sealer):
    """Seal and open JSON values; ``aad`` names the row (e.g. ``response:12``)."""

    error = SealError

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the check-up key must be 32 bytes")
        super().__init__(key)

    @classmethod
    def from_settings(cls, settings: Settings) -> Sealer:
        return cls(checkup_key(settings))
