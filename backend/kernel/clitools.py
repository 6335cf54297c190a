"""Helpers for ``probity`` subcommands: settings, running async work on a Database, progress."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from backend.kernel.db import Database
from backend.kernel.files import secure_process_files
from backend.kernel.settings import Settings, load_settings

T = TypeVar("T")


def run_async(factory: Callable[[Database], Awaitable[T]], settings: Settings) -> T:
    """Open a Database for ``settings``, await ``factory(db)``, always dispose."""

    async def main() -> T:
        db = Database(settings)
        try:
            return await factory(db)
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
