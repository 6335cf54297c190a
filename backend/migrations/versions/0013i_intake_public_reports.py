"""intake: reports from the public (sealed words, attachments apart), spent proof-of-work
challenges and the rate of submissions per address (keyed hashes, forgotten after a day)

Revision ID: 0013i
Revises: 0012t
Create Date: 2026-12-06 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import backend.kernel.db

revision: str = "0013i"
down_revision: str | None = "0012t"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "public_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("received_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("public_note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("internal_note", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("handled_by", sa.Integer(), nullable=True),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("receipt_hash"),
    )
    op.create_index("ix_public_report_received_at", "public_report", ["received_at"])
    op.create_index("ix_public_report_state", "public_report", ["state"])
    op.create_table(
        "public_report_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["public_report.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_public_report_file_report_id", "public_report_file", ["report_id"])
    op.create_table(
        "intake_challenge",
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("spent_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    op.create_index("ix_intake_challenge_spent_at", "intake_challenge", ["spent_at"])
    op.create_table(
        "intake_rate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_intake_rate_key", "intake_rate", ["key"])
    op.create_index("ix_intake_rate_at", "intake_rate", ["at"])


def downgrade() -> None:
    op.drop_table("intake_rate")
    op.drop_table("intake_challenge")
    op.drop_table("public_report_file")
    op.drop_table("public_report")
