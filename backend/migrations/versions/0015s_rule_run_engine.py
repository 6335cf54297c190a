"""rules: which engine ran a rule run (duckdb or spark)

Revision ID: 0015s
Revises: 0015c
Create Date: 2026-12-06 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015s"
down_revision: str | None = "0015c"
branch_labels: str | Sequence[str] | None = None
# the table is made by 0003 (another branch than 0014m)
depends_on: str | Sequence[str] | None = "0003"


def upgrade() -> None:
    with op.batch_alter_table("rule_run") as batch:
        batch.add_column(sa.Column("engine", sa.String(length=16), nullable=False, server_default="duckdb"))


def downgrade() -> None:
    with op.batch_alter_table("rule_run") as batch:
        batch.drop_column("engine")
