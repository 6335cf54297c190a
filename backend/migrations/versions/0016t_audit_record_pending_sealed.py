"""audit: a record is written with its change (content and mac) and sealed into the chain moments
later: seq, prev_hash and hash may be null (pending); mac, the keyed hash of its content

Revision ID: 0016t
Revises: 0015f
Create Date: 2026-12-06 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0016t"
down_revision: str | None = "0016e2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AutoString = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("audit_record") as batch:
        batch.add_column(sa.Column("mac", AutoString(length=64), nullable=True))
        batch.alter_column("seq", existing_type=sa.Integer(), nullable=True)
        batch.alter_column("prev_hash", existing_type=AutoString(length=64), nullable=True)
        batch.alter_column("hash", existing_type=AutoString(length=64), nullable=True)


def downgrade() -> None:
    # pending records cannot be kept without a place in the chain: seal them first (probity audit verify)
    with op.batch_alter_table("audit_record") as batch:
        batch.alter_column("hash", existing_type=AutoString(length=64), nullable=False)
        batch.alter_column("prev_hash", existing_type=AutoString(length=64), nullable=False)
        batch.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("mac")
