"""archive: list exports made in the background (state, progress, the file for its requester)

Revision ID: 0015a
Revises: 0015e
Create Date: 2026-12-06 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import backend.kernel.db

revision: str = "0015a"
down_revision: str | None = "0015e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "export_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("list_name", sa.String(length=16), nullable=False),
        sa.Column("filters", sa.JSON().with_variant(sa.JSON(none_as_null=True), "sqlite"), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("done_rows", sa.Integer(), nullable=False),
        sa.Column("file_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_export_job_account_id"), "export_job", ["account_id"], unique=False)
    op.create_index(op.f("ix_export_job_state"), "export_job", ["state"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_export_job_state"), table_name="export_job")
    op.drop_index(op.f("ix_export_job_account_id"), table_name="export_job")
    op.drop_table("export_job")
