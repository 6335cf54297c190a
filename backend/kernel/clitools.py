"""Helpers for ``probity`` subcommands: settings, running async work on a Database, progress."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from backend.kernel.db import Database
from backend.kernel.files import secure_process_files
from backend.kernel.hooks import REGISTRY, HookPoint
from backend.kernel.settings import Settings, load_settings

T = TypeVar("T")

#: after a command's work on the database, before it is closed: what a server process would
#: otherwise do later (the trail's records sealed into the chain: ``backend/audit/hooks.py``)
CLI_DONE: HookPoint[Callable[[Database, Settings], Awaitable[None]]] = HookPoint("cli.done")


def run_async(factory: Callable[[Database], Awaitable[T]], settings: Settings) -> T:
    """Open a Database for ``settings``, await ``factory(db)``, always dispose."""

    async def main() -> T:
        db = Database(settings)
        try:
            result = await factory(db)
            for hook in REGISTRY(CLI_DONE):
                await hook(db, settings)
            return result
        finally:
            await db.dispose()

    return asyncio.run(main())


def cli_settings() -> Settings:
    try:
        settings = load_settings()
        settings.check_secrets()
    except ValueError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc
    secure_process_files(settings.data_dir, settings.database_files)
    return settings


def say(message: str) -> None:
    """Progress and diagnostics go to stderr; results to stdout."""
    click.echo(message, err=True)
