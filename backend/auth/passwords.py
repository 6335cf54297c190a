"""Passwords: hashed and checked off the event loop, and the rules a new password must meet."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from backend.kernel.errors import Invalid

#: common passwords refused when one is set (lower case; generated from well-known patterns)
COMMON_PASSWORDS = Path(__file__).with_name("common-passwords.txt")

T = TypeVar("T")

#: per process: argon2 needs tens of MiB and milliseconds of CPU per call (it releases the GIL);
#: a few threads keep the event loop free and bound the memory an attack can make us use
_POOLS: dict[int, ThreadPoolExecutor] = {}
#: a hash of a random password per hasher's parameters: unknown usernames are checked against it,
#: so a refusal takes as long whether the username exists or not
_DUMMY: dict[tuple[int, int, int], str] = {}


def _pool(threads: int) -> ThreadPoolExecutor:
    pool = _POOLS.get(threads)
    if pool is None:
        pool = _POOLS[threads] = ThreadPoolExecutor(threads, thread_name_prefix="probity-argon2")
    return pool


class Passwords:
    """argon2 work for one app: ``hash`` and ``verify`` run on a bounded thread pool."""

    def __init__(self, hasher: PasswordHasher, threads: int) -> None:
        self.hasher = hasher
        self.threads = threads

    async def _off_loop(self, work: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(_pool(self.threads), work, *args)

    async def hash(self, password: str) -> str:
        return await self._off_loop(self.hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> tuple[bool, str | None]:
        """Whether ``password`` matches ``stored`` (``None``: no such account, checked against a
        dummy hash for equal work), and a new hash when the parameters have changed."""
        return await self._off_loop(self._verify, stored, password)

    def _verify(self, stored: str | None, password: str) -> tuple[bool, str | None]:
        target = stored if stored is not None else self._dummy()
        try:
            self.hasher.verify(target, password)
        except (VerificationError, InvalidHashError):
            return False, None
        if stored is None:  # pragma: no cover - a random 32-byte secret
            return False, None
        return True, self.hasher.hash(password) if self.hasher.check_needs_rehash(stored) else None

    def _dummy(self) -> str:
        params = (self.hasher.time_cost, self.hasher.memory_cost, self.hasher.parallelism)
        dummy = _DUMMY.get(params)
        if dummy is None:
            dummy = _DUMMY[params] = self.hasher.hash(secrets.token_urlsafe(32))
        return dummy


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text("utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def check_new_password(username: str, password: str, *, min_length: int) -> None:
    """Refuse a password someone is setting that is short, common or holds the username
    (``Invalid`` with a code the PWA explains; ``field`` is ``new_password``)."""
    field = {"field": "new_password"}
    if len(password) < min_length:
        raise Invalid(
            f"Choose a password of at least {min_length} characters.",
            code="password_too_short",
            extra={**field, "min_length": min_length},
        )
    lowered = password.lower()
    if username and username.lower() in lowered:
        raise Invalid(
            "Choose a password that does not contain your username.",
            code="password_has_username",
            extra=field,
        )
    if lowered in common_passwords() or len(set(lowered)) < 4:
        raise Invalid(
            "This password is too common or too simple; choose another.", code="weak_password", extra=field
        )
