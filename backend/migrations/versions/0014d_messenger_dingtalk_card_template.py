"""messenger: a DingTalk app's interactive card template (its presses come back through Stream mode)

Revision ID: 0014d
Revises: 0014m
Create Date: 2026-12-06 18:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014d"
down_revision: str | None = "0014m"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messenger_app") as batch:
        batch.add_column(sa.Column("card_template_id", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messenger_app") as batch:
        batch.drop_column("card_template_id")
