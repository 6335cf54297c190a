"""The trail's keyed hashes: a record's mac (its content) and its hash (content, seq, previous hash)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from backend.kernel.timeutil import as_utc

GENESIS = "0" * 64
HASHED_FIELDS = (
    "seq",
    "at",
    "actor_person_id",
    "actor_account_id",
    "actor_unit_id",
    "actor_label",
    "actor_post",
    "channel",
    "request_id",
    "object_type",
    "object_id",
    "action",
    "power",
    "old_value",
    "new_value",
    "prev_hash",
)


#: what a record's mac covers: its content, not its place in the chain (set when sealed)
MAC_FIELDS = tuple(name for name in HASHED_FIELDS if name not in ("seq", "prev_hash"))


def chain_key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), b"probity/audit-chain/v1", hashlib.sha256).digest()


def record_key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), b"probity/audit-record/v1", hashlib.sha256).digest()


def canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def compute_hash(key: bytes, fields: Mapping[str, Any], names: Sequence[str] = HASHED_FIELDS) -> str:
    body = {name: canonical(fields.get(name)) for name in names}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def compute_mac(key: bytes, fields: Mapping[str, Any]) -> str:
    """The keyed hash of a record's content (``record_key``), checked before it is sealed."""
    return compute_hash(key, fields, MAC_FIELDS)
