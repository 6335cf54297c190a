"""Telegram sending through the real PTB ``Bot``: a short text with inline buttons.

The conversation side (binding a chat to a person, answering button presses) belongs to ``bot/``;
the chat id is the person's ``telegram`` address (``DeliveryService.bind_telegram``). A blocked bot
or a chat that no longer exists marks the address refused and falls back to the next channel.
"""

from __future__ import annotations

import time
import warnings
from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError

from backend.delivery.claimed import Job, Outcome, TargetResult
from backend.delivery.payloads import Message

MAX_CALLBACK_BYTES = 64


def keyboard(message: Message) -> InlineKeyboardMarkup:
    row = []
    for b in message.buttons:
        if b.url:
            row.append(InlineKeyboardButton(b.text, url=b.url))
        elif b.callback_data and len(b.callback_data.encode()) <= MAX_CALLBACK_BYTES:
            row.append(InlineKeyboardButton(b.text, callback_data=b.callback_data))
    return InlineKeyboardMarkup([row])


class TelegramSender:
    channel = "telegram"

    def __init__(self, token: str, *, base_url: str, timeout: float = 10.0) -> None:
        self.bot = Bot(token, base_url=base_url)
        self.timeout = timeout

    async def start(self) -> None:
        await self.bot.initialize()

    async def close(self) -> None:
        await self.bot.shutdown()

    async def send_text(self, chat_id: int, message: Message) -> None:
        """The one call the bot side may reuse to send an alert to a chat."""
        await self.bot.send_message(
            chat_id=chat_id,
            text=message.text(),
            reply_markup=keyboard(message),
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            read_timeout=self.timeout,
            write_timeout=self.timeout,
            connect_timeout=self.timeout,
        )

    async def send(self, jobs: list[Job], message: Message) -> list[Outcome]:
        address = jobs[0].address
        if not address:
            tries = [TargetResult("chat", "failed", None, "no Telegram chat is bound")]
            return [Outcome(job, "failed", list(tries)) for job in jobs]
        started = time.perf_counter()
        refused = False
        wait: float | None = None
        try:
            await self.send_text(int(address), message)
            tried = TargetResult("chat", "sent")
        except Forbidden as exc:  # the person blocked the bot
            refused = True
            tried = TargetResult("chat", "failed", 403, f"refused: {exc.message}")
        except RetryAfter as exc:
            with warnings.catch_warnings():  # PTB 22 warns that the type will become timedelta
                warnings.simplefilter("ignore")
                after = exc.retry_after
            wait = after.total_seconds() if isinstance(after, timedelta) else float(after)
            tried = TargetResult("chat", "retry", 429, str(exc))
        except BadRequest as exc:
            refused = "chat not found" in exc.message.lower()
            tried = TargetResult("chat", "failed", 400, exc.message)
        except InvalidToken as exc:
            tried = TargetResult("chat", "failed", 401, f"bot token refused: {exc.message}")
        except NetworkError as exc:  # timeouts, 5xx, connection errors
            tried = TargetResult("chat", "retry", None, exc.message)
        except TelegramError as exc:
            tried = TargetResult("chat", "failed", None, exc.message)
        tried.latency_ms = int((time.perf_counter() - started) * 1000)
        result = tried.outcome if tried.outcome in ("sent", "retry") else "failed"
        return [Outcome(job, result, [tried], retry_after=wait, refused=refused) for job in jobs]
