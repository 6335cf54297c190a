"""topics: an English name, a plain instruction (zh-CN, English) and labels of the rule's output
columns, so that a warning explains itself; a change to a topic's names or instruction tells the
inboxes that show them (SQLite: every inbox version raised; PostgreSQL: NOTIFY inbox:*)

Revision ID: 0011w
Revises: 0010
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011w"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0003"

SQLITE_TRIGGER = (
    "CREATE TRIGGER topic_shown_inbox_version AFTER UPDATE OF name, name_en, instruction, instruction_en "
    "ON topic BEGIN UPDATE inbox_version SET version = version + 1; END"
)
PG_TRIGGER = (
    "CREATE TRIGGER topic_notify_inbox AFTER UPDATE OF name, name_en, instruction, instruction_en "
    "ON topic FOR EACH STATEMENT EXECUTE FUNCTION probity_notify_topic('inbox')"
)


def upgrade() -> None:
    with op.batch_alter_table("topic") as batch:
        batch.add_column(sa.Column("name_en", sa.String(120), nullable=False, server_default=""))
        batch.add_column(sa.Column("instruction", sa.String(500), nullable=False, server_default=""))
        batch.add_column(sa.Column("instruction_en", sa.String(500), nullable=False, server_default=""))
        batch.add_column(sa.Column("labels", sa.JSON(), nullable=False, server_default="{}"))
    if op.get_bind().dialect.name == "sqlite":
        op.execute(SQLITE_TRIGGER)
    else:
        op.execute(PG_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS topic_shown_inbox_version")
    else:
        op.execute("DROP TRIGGER IF EXISTS topic_notify_inbox ON topic")
    with op.batch_alter_table("topic") as batch:
        for name in ("labels", "instruction_en", "instruction", "name_en"):
            batch.drop_column(name)
