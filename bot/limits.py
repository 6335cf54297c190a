"""Telegram's flood control: on ``RetryAfter`` wait as told and try again (a few times)."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger("probity.bot")


def retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 announces that the type will become timedelta
        warnings.simplefilter("ignore")
        after = exc.retry_after
    return after.total_seconds() if isinstance(after, timedelta) else float(after)


class RetryAfterLimiter(BaseRateLimiter[None]):
    """Every Bot API call of the bot goes through here: a 429 waits ``retry_after`` and retries."""

    def __init__(self, *, max_retries: int = 3, max_wait_seconds: float = 60.0) -> None:
        self.max_retries = max_retries
        self.max_wait_seconds = max_wait_seconds

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        attempt = 0
        while True:
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = retry_seconds(exc)
                if attempt >= self.max_retries or wait > self.max_wait_seconds:
                    raise
                attempt += 1
                log.info("Telegram asked to wait %.0f s before %s (try %d)", wait, endpoint, attempt)
                await asyncio.sleep(wait)
