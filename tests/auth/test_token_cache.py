"""Checked access tokens are remembered, but never past their expiry or under another key."""

from __future__ import annotations

import time

import jwt
import pytest

from backend.auth.service import ALGORITHM, verified_claims


def test_a_remembered_token_still_expires_and_other_keys_still_fail(monkeypatch):
    key = "k" * 40
    exp = int(time.time()) + 60
    token = jwt.encode({"sub": "1", "sid": "s", "exp": exp, "typ": "access"}, key, algorithm=ALGORITHM)
    assert verified_claims(token, key)["sid"] == "s"
    assert verified_claims(token, key)["sid"] == "s"  # from memory
    with pytest.raises(jwt.InvalidSignatureError):
        verified_claims(token, "x" * 40)
    monkeypatch.setattr(time, "time", lambda: exp + 1)
    with pytest.raises(jwt.ExpiredSignatureError):
        verified_claims(token, key)
    with pytest.raises(jwt.DecodeError):
        verified_claims(token[:-4] + "AAAA", key)
