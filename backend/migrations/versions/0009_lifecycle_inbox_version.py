"""lifecycle: a version counter per person's inbox, raised by triggers on the warning table (SQLite)

Every insert, update or delete of a warning raises the counter of the person(s) it belongs to, in
the same transaction, whoever writes (the server, the worker, a rule run from the CLI, a manual
fix in the sqlite3 shell). The employee inbox keeps a rendered page while the counter is unchanged.
PostgreSQL gets the table but no triggers: row-level upserts of a shared counter there would take
row locks in the order the rows come and could deadlock concurrent writers; its inbox is not kept.

Later migrations must not rebuild the warning table in batch mode on SQLite without re-creating
these triggers (``test_inbox_version_triggers_exist_at_head`` fails if they are missing).

Revision ID: 0009
Revises: 0004
Create Date: 2026-11-23 22:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BUMP = (
    "INSERT INTO inbox_version (person_id, version) SELECT {who}, 1 WHERE {when} "
    "ON CONFLICT (person_id) DO UPDATE SET version = version + 1;"
)
TRIGGERS = {
    "inbox_version_after_insert": "AFTER INSERT ON warning BEGIN "
    + _BUMP.format(who="NEW.person_id", when="true")
    + " END",
    "inbox_version_after_update": "AFTER UPDATE ON warning BEGIN "
    + _BUMP.format(who="NEW.person_id", when="true")
    + " "
    + _BUMP.format(who="OLD.person_id", when="OLD.person_id IS NOT NEW.person_id")
    + " END",
    "inbox_version_after_delete": "AFTER DELETE ON warning BEGIN "
    + _BUMP.format(who="OLD.person_id", when="true")
    + " END",
}


def upgrade() -> None:
    op.create_table(
        "inbox_version",
        sa.Column("person_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("person_id"),
    )
    if op.get_bind().dialect.name == "sqlite":
        for name, body in TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("inbox_version")
