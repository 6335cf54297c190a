"""portrait: the risk portrait's factor weights an admin changes

Revision ID: 0013r3
Revises: 0013r2
Create Date: 2026-12-06 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import backend.kernel.db

revision: str = "0013r3"
down_revision: str | None = "0013r2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portrait_weight",
        sa.Column("factor", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("updated_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("factor"),
    )


def downgrade() -> None:
    op.drop_table("portrait_weight")
