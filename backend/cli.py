"""The ``probity`` command line."""

from __future__ import annotations

import functools
from typing import Any

import click

from backend.kernel.clitools import cli_settings, run_async, say
from backend.kernel.db import Database, head_revision
from backend.kernel.discovery import feature_modules
from backend.kernel.hooks import ROLES, compose


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(ctx: click.Context) -> None:
    """Probity: integrity-risk early warning for power-supply companies and public bodies.

    Settings come from PROBITY_* environment variables or a .env file (see README).
    """
    # a command that does work makes the same follow-ups as the app (features' hooks); serve
    # composes for the role it starts
    if ctx.invoked_subcommand != "serve":
        compose("all")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--migrate", is_flag=True, help="Apply pending database migrations before starting.")
@click.option(
    "--role",
    type=click.Choice(list(ROLES)),
    default="all",
    show_default=True,
    help="all: API, PWA, bot, scheduler and a delivery worker; api: HTTP only (and the Telegram "
    "webhook); worker: delivery only; scheduler: the periodic jobs only; bot: Telegram long polling "
    "only. Several api, worker and scheduler processes may share one PostgreSQL database.",
)
@click.option(
    "--processes",
    type=click.IntRange(1, 64),
    default=None,
    help="HTTP processes sharing the port (roles all and api): this one and N-1 api processes. "
    "Default PROBITY_HTTP_PROCESSES (1). About one per CPU core; on SQLite their writers take turns.",
)
def serve(host: str, port: int, migrate: bool, role: str, processes: int | None) -> None:
    """Serve the API (/api), the PWA (/), bot, scheduler and delivery workers, or one of them (--role).

    Refuses to start on a database that is not migrated, unless --migrate is given.
    """
    from backend import roles

    settings = cli_settings()
    reason = roles.refusal(role, settings)
    if reason is not None:
        raise click.ClickException(reason)

    async def check(db: Database) -> str | None:
        current = await db.current_revision()
        if current == head_revision():
            return None
        if migrate:
            say(f"migrating database from {current or 'empty'} to {head_revision()} …")
            await db.upgrade()
            return None
        return current or "empty"

    behind = run_async(check, settings)
    if behind is not None:
        raise click.ClickException(
            f"the database ({_safe_url(settings.database_url)}) is at revision {behind}, "
            f"not {head_revision()}: run `probity db upgrade` (or `probity demo` for demo data), "
            "or start with `probity serve --migrate`."
        )
    roles.run(role, settings, host=host, port=port, processes=processes or settings.http_processes)


@main.command()
def demo() -> None:
    """Create the schema if needed and load the synthetic demo organisation, people and accounts.

    Safe to run twice: the second run adds nothing.
    """
    from backend.audit.service import AuditTrail
    from backend.auth.service import make_hasher
    from backend.demo.org import load_demo_org

    settings = cli_settings()

    async def go(db: Database) -> Any:
        say("migrating database …")
        await db.upgrade()
        trail = AuditTrail(settings.secret_key.get_secret_value())
        async with db.session() as session:
            return await load_demo_org(session, settings, trail, make_hasher(settings), progress=say)

    report = run_async(go, settings)
    click.echo(
        f"demo organisation: units +{report.units}, posts +{report.posts}, people +{report.people}, "
        f"accounts +{report.accounts}"
    )
    for loader in feature_modules("demo", exclude=frozenset({"demo"})):
        feature = loader.__name__.split(".")[1]
        summary = run_async(functools.partial(_load_feature_demo, loader, settings=settings), settings)
        click.echo(f"demo {feature}: {summary}")
    click.echo("Sign in as admin, committee, inspector, head, manager or manager2 with the demo password.")


@main.group()
def db() -> None:
    """Operational database commands."""


@db.command("upgrade")
@click.argument("revision", default="heads")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    settings = cli_settings()

    async def go(db: Database) -> tuple[str | None, str | None]:
        before = await db.current_revision()
        await db.upgrade(revision)
        return before, await db.current_revision()

    before, after = run_async(go, settings)
    click.echo(f"database {_safe_url(settings.database_url)}: {before or 'empty'} → {after}")


def _safe_url(url: str) -> str:
    """The database URL without its password, for messages."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else f"{scheme}://{user}@{host}"


async def _load_feature_demo(loader: Any, db: Database, *, settings: Any) -> str:
    return str(await loader.load_demo(db, settings, say))


for _module in feature_modules("cli"):
    for _command in _module.COMMANDS:
        main.add_command(_command)


if __name__ == "__main__":
    main()
