"""Logging set-up: the app's level, and libraries that would write secrets kept quieter.

Some libraries log what they send: httpx (and httpcore) every request URL at INFO, and a Telegram
Bot API URL holds the bot token; aiosqlite every call with its parameters at DEBUG, and those hold
channel URLs with their keys, password hashes and token hashes. Those loggers are held at a level
where they do not, whatever ``PROBITY_LOG_LEVEL`` says (their warnings and errors still show).
"""

from __future__ import annotations

import logging

#: logger → the lowest level it may log at
QUIET = {"httpx": logging.WARNING, "httpcore": logging.WARNING, "aiosqlite": logging.INFO}


def configure_logging(level: str) -> None:
    """The root's handler at ``level`` (when none is set up yet), and ``QUIET``'s floors."""
    logging.basicConfig(level=level)
    for name, floor in QUIET.items():
        logger = logging.getLogger(name)
        if logger.level < floor:  # unset (0) or lower
            logger.setLevel(floor)
