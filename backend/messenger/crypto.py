"""WeCom's callback crypto, written from its published protocol (加解密方案说明).

* The signature (``msg_signature``) is the hex SHA-1 of the token, the timestamp, the nonce and the
  encrypted message (``echostr`` on URL verification, ``Encrypt`` in an event), sorted as strings
  and concatenated.
* The EncodingAESKey is 43 characters of base64 without its ``=``: decoded, the 32-byte AES-256 key;
  the IV is the key's first 16 bytes; CBC mode; PKCS#7 padding to a multiple of **32** bytes.
* The plaintext is 16 random bytes, the message length (4 bytes, network order), the message, and
  the receiver id (the corp id for a self-built app): a message for another corp is refused.

Replay protection is the caller's (:mod:`backend.messenger.service`): a timestamp too far from now
is refused here (:func:`check_fresh`), a nonce seen before is refused by the database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32
#: a callback older (or further in the future) than this is refused
FRESH_SECONDS = 300


class CallbackRefused(ValueError):
    """A callback that does not verify: ``code`` says why (never which secret)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()  # noqa: S324 - the protocol's hash


def aes_key(encoding_aes_key: str) -> bytes:
    if len(encoding_aes_key) != 43:
        raise ValueError("an EncodingAESKey is 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as exc:
        raise ValueError("an EncodingAESKey is base64 (letters and digits)") from exc
    if len(key) != 32:
        raise ValueError("an EncodingAESKey decodes to 32 bytes")
    return key


def check_fresh(timestamp: str, *, now: float | None = None, window: int = FRESH_SECONDS) -> int:
    try:
        stamp = int(timestamp)
    except ValueError as exc:
        raise CallbackRefused("bad_timestamp", "the timestamp is not a number") from exc
    if abs((now if now is not None else time.time()) - stamp) > window:
        raise CallbackRefused("stale_timestamp", "the callback's timestamp is too old or in the future")
    return stamp


@dataclass(frozen=True)
class WeComCrypto:
    token: str
    encoding_aes_key: str
    receive_id: str

    @property
    def key(self) -> bytes:
        return aes_key(self.encoding_aes_key)

    def _cipher(self) -> Cipher[modes.CBC]:
        key = self.key
        return Cipher(algorithms.AES(key), modes.CBC(key[:16]))

    def check_signature(self, given: str, timestamp: str, nonce: str, encrypted: str) -> None:
        expected = signature(self.token, timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected.encode(), (given or "").lower().encode()):
            raise CallbackRefused("bad_signature", "the callback's signature does not match")

    def decrypt(self, encrypted: str) -> str:
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except binascii.Error as exc:
            raise CallbackRefused("bad_message", "the message is not base64") from exc
        if not raw or len(raw) % 16:
            raise CallbackRefused("bad_message", "the message is not whole AES blocks")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(raw) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise CallbackRefused("bad_message", "the message's padding is wrong")
        plain = plain[:-pad]
        if len(plain) < 20:
            raise CallbackRefused("bad_message", "the message is too short")
        (length,) = struct.unpack(">I", plain[16:20])
        body, receiver = plain[20 : 20 + length], plain[20 + length :]
        if len(body) != length:
            raise CallbackRefused("bad_message", "the message's length is wrong")
        if not hmac.compare_digest(receiver, self.receive_id.encode()):
            raise CallbackRefused("wrong_receiver", "the message is for another corp")
        return body.decode()

    def encrypt(self, message: str, *, random16: bytes | None = None) -> str:
        body = message.encode()
        plain = (random16 or os.urandom(16)) + struct.pack(">I", len(body)) + body + self.receive_id.encode()
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    def open(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> str:
        """Signature checked first (nothing is decrypted for a forger), then decrypted."""
        self.check_signature(msg_signature, timestamp, nonce, encrypted)
        return self.decrypt(encrypted)

    def seal(self, message: str, timestamp: str, nonce: str) -> tuple[str, str]:
        """``message`` encrypted, with its signature: what WeCom sends (and a passive reply)."""
        encrypted = self.encrypt(message)
        return encrypted, signature(self.token, timestamp, nonce, encrypted)
