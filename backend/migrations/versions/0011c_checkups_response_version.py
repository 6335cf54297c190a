"""checkups: a version per check-up response, so a save made from an older read fails and is
merged again instead of overwriting answers saved meanwhile

Revision ID: 0011c
Revises: 0010
Create Date: 2026-12-06 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011c"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
# the table is made by 0005 (another branch than 0010)
depends_on: str | Sequence[str] | None = "0005"


def upgrade() -> None:
    with op.batch_alter_table("checkup_response") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("checkup_response") as batch:
        batch.drop_column("version")
