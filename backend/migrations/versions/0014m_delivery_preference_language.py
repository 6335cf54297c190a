"""delivery: a person's language (zh-CN or English) for every channel's messages

Revision ID: 0014m
Revises: 0013r4
Create Date: 2026-12-06 16:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014m"
down_revision: str | None = "0013r4"
branch_labels: str | Sequence[str] | None = None
# the table is made by 0006 (another branch than 0013m)
depends_on: str | Sequence[str] | None = "0006a"


def upgrade() -> None:
    with op.batch_alter_table("delivery_preference") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery_preference") as batch:
        batch.drop_column("language")
