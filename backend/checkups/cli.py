"""``probity checkups …``: reminders from a schedule (cron) until the scheduler lands."""

from __future__ import annotations

import click

from backend.kernel.clitools import cli_settings, run_async


@click.group("checkups")
def checkups() -> None:
    """Integrity check-up (廉洁体检) campaigns."""


@checkups.command("remind")
def remind() -> None:
    """Remind everyone who has not submitted, in every campaign that takes answers now."""
    from backend.audit.service import AuditTrail
    from backend.checkups.crypto import Sealer
    from backend.checkups.service import CheckupService
    from backend.kernel.access import Actor, Channel
    from backend.kernel.db import Database

    settings = cli_settings()

    async def go(db: Database) -> dict[int, int]:
        async with db.session() as session:
            svc = CheckupService(
                session, AuditTrail(settings.secret_key.get_secret_value()), Sealer.from_settings(settings)
            )
            return await svc.remind_all(Actor.system(Channel.cli, "probity checkups remind"))

    sent = run_async(go, settings)
    for campaign_id, count in sorted(sent.items()):
        click.echo(f"campaign {campaign_id}: {count} reminder(s)")
    if not sent:
        click.echo("no campaign takes answers now")


COMMANDS: list[click.Command] = [checkups]
