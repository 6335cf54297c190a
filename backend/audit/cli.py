"""``probity audit verify | head | purge``: the trail of acts from the command line."""

from __future__ import annotations

import sys
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import click

from backend.audit.checkpoints import Checkpoint, Checkpoints
from backend.audit.service import RETENTION_DAYS, AuditTrail, PurgeRefused, PurgeResult, VerifyResult
from backend.kernel.access import Actor, Channel
from backend.kernel.clitools import cli_settings, run_async
from backend.kernel.db import Database
from backend.kernel.settings import Settings


@click.group("audit")
def audit_group() -> None:
    """The trail of acts."""


def check_trail(settings: Settings, witness: Checkpoint | None = None) -> VerifyResult:
    """Seal the pending records, verify the trail against the checkpoints (and a witness's head);
    when it verifies, add a checkpoint of its head. Exits 1 naming what is wrong."""
    secret = settings.secret_key.get_secret_value()
    checkpoints = Checkpoints.in_dir(settings.data_dir, secret)
    kept, bad = checkpoints.read()
    if witness is not None:
        if not witness.valid(checkpoints.key):
            _tampered("the head given was not signed with this secret key, or was altered")
        kept.append(witness)

    async def go(db: Database) -> VerifyResult:
        trail = AuditTrail(secret)
        try:
            await trail.seal(db)  # what the app wrote and has not sealed yet (it would within a second)
        except Exception as exc:  # a tampered head or seq: verify names it below
            click.echo(f"note: pending records could not be sealed ({type(exc).__name__}: {exc})", err=True)
        async with db.session() as session:
            return await trail.verify(session, kept)

    result = run_async(go, settings)
    if not result.ok:
        _tampered(result.message)
    if bad:
        _tampered(bad[0])
    if result.head_seq and result.head_seq > max((c.seq for c in kept), default=0):
        checkpoints.append(Checkpoint.head(result.head_seq, result.head_hash, checkpoints.key))
    return result


def _tampered(message: str) -> None:
    click.echo(f"TAMPERED: {message}", err=True)
    sys.exit(1)


@audit_group.command("verify")
@click.option(
    "--head",
    "witness",
    metavar="'<printed head>'",
    help="A head printed earlier by `probity audit head` (a witness's copy): the trail must still hold it.",
)
def audit_verify(witness: str | None) -> None:
    """Check the trail: its hash chain, and that no record a checkpoint (or the witness's head)
    saw is missing or different. Exit 1 naming the first bad record, or what was cut or wiped."""
    settings = cli_settings()
    given = None
    if witness is not None:
        try:
            given = Checkpoint.from_witness(witness)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--head") from exc
    result = check_trail(settings, given)
    click.echo(f"ok: {result.message}")


@audit_group.command("head")
def audit_head() -> None:
    """Print the trail's signed head (seq, hash, time, signature) for a witness to keep.

    The trail is verified first; the head is also added to the checkpoint file. Later,
    `probity audit verify --head '<this line>'` checks that the trail still holds it."""
    settings = cli_settings()
    result = check_trail(settings)
    key = Checkpoints.in_dir(settings.data_dir, settings.secret_key.get_secret_value()).key
    click.echo(Checkpoint.head(result.head_seq, result.head_hash, key).witness())


@audit_group.command("purge")
@click.option(
    "--before",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help=f"Delete records made before this day (YYYY-MM-DD, at least {RETENTION_DAYS} days ago).",
)
def audit_purge(before: datetime) -> None:
    """Delete the trail's records made before a day at least 184 days ago.

    The trail must verify first. A signed checkpoint of what was purged (first and last seq,
    the hash at the cut) is kept, so `audit verify` passes afterwards and still sees a cut."""
    settings = cli_settings()
    secret = settings.secret_key.get_secret_value()
    start = datetime.combine(date(before.year, before.month, before.day), time(), ZoneInfo(settings.timezone))

    async def go(db: Database) -> PurgeResult:
        return await AuditTrail(secret).purge(
            db,
            Checkpoints.in_dir(settings.data_dir, secret),
            start,
            Actor.system(Channel.cli, "probity audit purge"),
        )

    try:
        result = run_async(go, settings)
    except PurgeRefused as exc:
        raise click.ClickException(str(exc)) from exc
    checkpoint = result.checkpoint
    if checkpoint is None:
        click.echo(f"nothing to purge: no record was made before {before:%Y-%m-%d}")
        return
    click.echo(
        f"purged records {checkpoint.first}–{checkpoint.seq} (made before {before:%Y-%m-%d}); "
        f"hash at the cut {checkpoint.hash}"
    )


COMMANDS = [audit_group]
