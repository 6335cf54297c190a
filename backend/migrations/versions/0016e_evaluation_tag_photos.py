"""evaluation: a photo filed with a tag (eval_tag_photo)

Revision ID: 0016e
Revises: 0015f
Create Date: 2026-12-06 21:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import backend.kernel.db

revision: str = "0016e"
down_revision: str | None = "0015f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "eval_tag_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["tag_id"], ["eval_tag.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_eval_tag_photo_tag_id"), "eval_tag_photo", ["tag_id"], unique=False)
    op.create_index(op.f("ix_eval_tag_photo_uploaded_by"), "eval_tag_photo", ["uploaded_by"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_eval_tag_photo_uploaded_by"), table_name="eval_tag_photo")
    op.drop_index(op.f("ix_eval_tag_photo_tag_id"), table_name="eval_tag_photo")
    op.drop_table("eval_tag_photo")
