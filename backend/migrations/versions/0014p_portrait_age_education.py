"""portrait factors: a person's birth year, integrity education records, lessons' hours

Revision ID: 0014p
Revises: 0014b
Create Date: 2026-12-06 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import backend.kernel.db

revision: str = "0014p"
down_revision: str | None = "0014b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("birth_year", sa.Integer(), nullable=True))
    with op.batch_alter_table("broadcast") as batch:
        batch.add_column(sa.Column("lesson_hours", sa.Float(), nullable=True))
    op.create_table(
        "education_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("studied_on", sa.Date(), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id", "broadcast_id", name="uq_education_lesson"),
    )
    op.create_index(op.f("ix_education_record_person_id"), "education_record", ["person_id"], unique=False)
    op.create_index(op.f("ix_education_record_studied_on"), "education_record", ["studied_on"], unique=False)
    op.create_index(op.f("ix_education_record_broadcast_id"), "education_record", ["broadcast_id"], unique=False)


def downgrade() -> None:
    op.drop_table("education_record")
    with op.batch_alter_table("broadcast") as batch:
        batch.drop_column("lesson_hours")
    with op.batch_alter_table("person") as batch:
        batch.drop_column("birth_year")
