"""``probity ladder sweep``: escalate unanswered ladder cases, report overdue recommendations."""

from __future__ import annotations

import click

from backend.ladder.service import sweep
from backend.warnings.cli import sweep_command


@click.group("ladder")
def ladder_group() -> None:
    """The personal escalation ladder (notice, inquiry, supervision recommendation)."""


ladder_group.add_command(
    sweep_command(
        sweep, "One pass: unanswered notices and inquiries move up a tier; late recommendations are reported."
    )
)

COMMANDS = [ladder_group]
