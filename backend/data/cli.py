"""``probity data …``: declare business tables, import files."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

import click

from backend.kernel.access import Actor, Channel
from backend.kernel.clitools import cli_settings, run_async, say
from backend.kernel.db import Database
from backend.kernel.errors import AppError


def cli_actor(command: str) -> Actor:
    return Actor.system(Channel.cli, f"{command} ({getpass.getuser()})")


async def _service(db: Database, settings: Any, work: Any) -> Any:
    from backend.audit.service import AuditTrail
    from backend.data.service import DataService

    async with db.session() as session:
        svc = DataService(session, AuditTrail(settings.secret_key.get_secret_value()), settings)
        return await work(svc)


@click.group("data")
def data() -> None:
    """Business data: declared tables in the DuckDB store, imports."""


@data.command("import")
@click.argument("table")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--encoding", default=None, help="The file's encoding, e.g. gb18030 (default: detected).")
@click.option("--take-good-rows", is_flag=True, help="Import the good rows even if some are refused.")
def import_(table: str, file: Path, encoding: str | None, take_good_rows: bool) -> None:
    """Load a CSV or XLSX FILE into business table TABLE; prints rows taken and rows refused with reasons.

    By default a file with any bad row imports nothing. Re-importing a period replaces it.
    """
    settings = cli_settings()
    actor = cli_actor("probity data import")

    async def work(svc: Any) -> Any:
        return await svc.import_file(
            table, file, file.name, actor, encoding=encoding, take_good_rows=take_good_rows
        )

    try:
        record = run_async(lambda db: _service(db, settings, work), settings)
    except AppError as exc:
        raise click.ClickException(f"{exc.code}: {exc.detail}") from exc
    for error in record.errors[:50]:
        where = f"row {error['row']}" + (f", column {error['column']}" if error["column"] else "")
        say(f"refused {where}: {error['reason']}")
    if len(record.errors) > 50:
        say(f"… {record.rows_refused - 50} more refused row(s); see import {record.id}")
    click.echo(
        f"import {record.id} {record.status!s}: {table} rows read {record.rows_read}, "
        f"taken {record.rows_taken}, refused {record.rows_refused}, replaced {record.rows_replaced}, "
        f"periods {len(record.periods)}, {record.duration_ms} ms"
    )
    if str(record.status) != "done":
        raise click.ClickException(record.error or "nothing was imported")


@data.command("declare")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def declare(file: Path) -> None:
    """Declare business tables from a JSON FILE (one declaration or a list of them)."""
    from backend.data.models import TableDeclare

    settings = cli_settings()
    raw = json.loads(file.read_text(encoding="utf-8"))
    items = [TableDeclare.model_validate(d) for d in (raw if isinstance(raw, list) else [raw])]
    actor = cli_actor("probity data declare")

    async def work(svc: Any) -> list[str]:
        return [(await svc.declare(item, actor)).name for item in items]

    try:
        names = run_async(lambda db: _service(db, settings, work), settings)
    except AppError as exc:
        raise click.ClickException(f"{exc.code}: {exc.detail}") from exc
    click.echo(f"declared: {', '.join(names)}")


@data.command("tables")
def tables() -> None:
    """List the declared business tables with their row counts."""
    settings = cli_settings()

    async def work(svc: Any) -> Any:
        return await svc.public(await svc.tables())

    try:
        found = run_async(lambda db: _service(db, settings, work), settings)
    except AppError as exc:
        raise click.ClickException(f"{exc.code}: {exc.detail}") from exc
    for table in found:
        click.echo(f"{table.name}\t{table.rows}\t{table.title}")


COMMANDS: list[click.Command] = [data]
