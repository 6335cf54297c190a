"""``probity calendar …``: list, add and remove holiday / make-up working day overrides."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import click

from backend.audit.service import AuditTrail
from backend.calendar.models import CalendarOverrideCreate, OverrideKind
from backend.calendar.service import LEVEL_WORKING_DAYS, CalendarService
from backend.kernel.access import Actor, Channel
from backend.kernel.clitools import cli_settings, run_async
from backend.kernel.db import Database
from backend.kernel.errors import AppError
from backend.kernel.tabular import read_rows


def _day(_ctx: Any, _param: Any, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date as YYYY-MM-DD") from exc


CLI_ACTOR = Actor.system(Channel.cli, "cli")


def _run(work: Any) -> Any:
    settings = cli_settings()

    async def go(db: Database) -> Any:
        async with db.session() as session:
            return await work(CalendarService(session, AuditTrail(settings.secret_key.get_secret_value())))

    try:
        return run_async(go, settings)
    except AppError as exc:
        raise click.ClickException(f"{exc.code}: {exc.detail}") from exc


@click.group()
def calendar() -> None:
    """Working-day calendar: statutory data, admin overrides, provisional weekdays beyond both."""


@calendar.command("list")
@click.option("--year", type=int, help="Only this year.")
def list_overrides(year: int | None) -> None:
    """List overrides (day, kind, note)."""
    for row in _run(lambda svc: svc.list_overrides(year)):
        click.echo(f"{row.day.isoformat()}\t{row.kind}\t{row.note}")


@calendar.command("add")
@click.argument("day", callback=_day)
@click.argument("kind", type=click.Choice([k.value for k in OverrideKind]))
@click.option("--note", default="", help="What the day is, e.g. 春节.")
def add(day: date, kind: str, note: str) -> None:
    """Declare DAY a holiday or a (make-up) working day."""
    item = CalendarOverrideCreate(day=day, kind=OverrideKind(kind), note=note)
    rows, recomputed = _run(lambda svc: svc.add_overrides([item], CLI_ACTOR))
    click.echo(f"added {rows[0].day.isoformat()} {kind}; deadlines recomputed: {recomputed}")


@calendar.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_file(file: str) -> None:
    """Add overrides from a CSV/XLSX file with columns day, kind[, note] (all or none)."""
    items: list[CalendarOverrideCreate] = []
    with open(file, "rb") as fh:
        content = fh.read()
    try:
        _header, rows = read_rows(file, content)
        for number, row in rows:
            try:
                items.append(
                    CalendarOverrideCreate(
                        day=date.fromisoformat(row.get("day", "")),
                        kind=OverrideKind(row.get("kind", "")),
                        note=row.get("note") or "",
                    )
                )
            except ValueError as exc:
                raise click.ClickException(f"row {number}: {exc}") from exc
    except AppError as exc:
        raise click.ClickException(f"{exc.code}: {exc.detail}") from exc
    rows, recomputed = _run(lambda svc: svc.add_overrides(items, CLI_ACTOR))
    click.echo(f"added {len(rows)} overrides; deadlines recomputed: {recomputed}")


@calendar.command("remove")
@click.argument("day", callback=_day)
def remove(day: date) -> None:
    """Remove DAY's override."""
    _, recomputed = _run(lambda svc: svc.remove_override(day, CLI_ACTOR))
    click.echo(f"removed {day.isoformat()}; deadlines recomputed: {recomputed}")


@calendar.command("days")
@click.argument("start", callback=_day)
@click.argument("count", type=click.IntRange(1, 800), default=14)
def days(start: date, count: int) -> None:
    """Show COUNT days from START: working or not, and where the answer comes from."""
    for info in _run(lambda svc: svc.days(start, start + timedelta(days=count - 1))):
        mark = "working" if info.working else "off"
        flag = "\tprovisional" if info.provisional else ""
        click.echo(f"{info.day.isoformat()}\t{mark}\t{info.source}{flag}")


@calendar.command("deadline")
@click.argument("day", callback=_day)
@click.argument("level", type=click.Choice(list(LEVEL_WORKING_DAYS)))
def deadline(day: date, level: str) -> None:
    """The deadline of a LEVEL warning raised on DAY."""

    async def work(svc: CalendarService) -> Any:
        cal = await svc.calendar()
        return cal.deadline(datetime.combine(day, datetime.min.time(), cal.zone), LEVEL_WORKING_DAYS[level])

    d = _run(work)
    click.echo(f"{d.due_on.isoformat()}{' (provisional)' if d.provisional else ''}")


COMMANDS = [calendar]
