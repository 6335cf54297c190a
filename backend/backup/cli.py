"""``probity backup DEST`` and ``probity restore SRC``."""

from __future__ import annotations

from pathlib import Path

import click

from backend.backup.retention import Purged, purge_expired
from backend.backup.service import BackupRefused, backup, restore
from backend.kernel.access import Channel
from backend.kernel.clitools import cli_settings, run_async, say
from backend.kernel.db import Database


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--include-secret-key",
    is_flag=True,
    help="Copy the secret key file of the data directory too (without it, keep the key apart: "
    "a restore needs the same key).",
)
def backup_command(dest: Path, include_secret_key: bool) -> None:
    """Back up the database, the business store and the data directory into DEST (new or empty),
    while `probity serve` runs. DEST/manifest.json lists every file with its sha256."""
    settings = cli_settings()
    try:
        report = backup(settings, dest, include_secret_key=include_secret_key, say=say)
    except BackupRefused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"backup in {report.dest}: {report.database} database, {report.files} files, {report.bytes} bytes"
    )
    if not include_secret_key and settings.key_origin != "env":
        say(f"the secret key ({settings.secret_key_file}) is not in the backup: keep a copy of it apart")


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_command(src: Path) -> None:
    """Restore a backup made by `probity backup` into an empty data directory and an empty
    database (PROBITY_DATA_DIR, PROBITY_DATABASE_URL), with the secret key it was made with."""
    settings = cli_settings()
    try:
        report = restore(settings, src, say=say)
    except BackupRefused as exc:
        raise click.ClickException(str(exc)) from exc
    key = ", secret key file restored" if report.secret_key_restored else ""
    click.echo(
        f"restored {report.database} database and {report.files} files{key}; "
        "check it with `probity audit verify`"
    )


@click.command("retention")
def retention_command() -> None:
    """Delete now what is past its retention: sessions ended PROBITY_SESSION_RETENTION_DAYS ago,
    finished deliveries routed PROBITY_DELIVERY_RETENTION_DAYS ago (`probity serve` does it daily).
    The trail of acts is purged only by `probity audit purge`."""
    settings = cli_settings()

    async def go(db: Database) -> Purged:
        return await purge_expired(db, settings, channel=Channel.cli)

    click.echo(run_async(go, settings).line())


COMMANDS = [backup_command, restore_command, retention_command]
