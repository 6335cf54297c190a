"""registers: the B.1 risk-point list and the earlier versions of its points

Revision ID: 0013r4
Revises: 0013r3
Create Date: 2026-12-06 16:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import backend.kernel.db

revision: str = "0013r4"
down_revision: str | None = "0013r3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AutoString = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "risk_point",
        sa.Column("specialty", sa.String(length=16), nullable=False),
        sa.Column("posts", AutoString(length=200), nullable=False),
        sa.Column("business_item", AutoString(length=200), nullable=False),
        sa.Column("process_step", AutoString(length=200), nullable=False),
        sa.Column("risk_point", AutoString(length=500), nullable=False),
        sa.Column("manifestation", AutoString(length=1000), nullable=False),
        sa.Column("control_measures", AutoString(length=2000), nullable=False),
        sa.Column("topic_code", AutoString(length=32), nullable=True),
        sa.Column("offline_check", AutoString(length=500), nullable=False),
        sa.Column("owner", AutoString(length=120), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", AutoString(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_index(op.f("ix_risk_point_specialty"), "risk_point", ["specialty"], unique=False)
    op.create_table(
        "risk_point_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("risk_point_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON().with_variant(sa.JSON(none_as_null=True), "sqlite"), nullable=False),
        sa.Column("valid_until", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["risk_point_id"], ["risk_point.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_risk_point_version_risk_point_id"), "risk_point_version", ["risk_point_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_risk_point_version_risk_point_id"), table_name="risk_point_version")
    op.drop_table("risk_point_version")
    op.drop_index(op.f("ix_risk_point_specialty"), table_name="risk_point")
    op.drop_table("risk_point")
