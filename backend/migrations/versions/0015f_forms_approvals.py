"""forms: approvals (ordered sign-off steps of a form) and the linked-letter rules (every pattern of
a letter, each warning counted once per pattern)

Revision ID: 0015f
Revises: 0015s
Create Date: 2026-12-06 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import backend.kernel.db

revision: str = "0015f"
down_revision: str | None = "0015s"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AutoString = sqlmodel.sql.sqltypes.AutoString
JSON = sa.JSON().with_variant(sa.JSON(none_as_null=True), "sqlite")
UTC = backend.kernel.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("linked_warning") as batch:
        batch.add_column(sa.Column("patterns", JSON, nullable=False, server_default="[]"))
    op.create_table(
        "linked_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("linked_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("warning_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["linked_id"], ["linked_warning.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rule", "warning_id", name="uq_linked_member"),
    )
    op.create_index(op.f("ix_linked_member_linked_id"), "linked_member", ["linked_id"], unique=False)
    _backfill()
    op.create_table(
        "approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("number", AutoString(length=32), nullable=False),
        sa.Column("fields", JSON, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("closed_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
    )
    op.create_index(op.f("ix_approval_kind"), "approval", ["kind"], unique=False)
    op.create_index(op.f("ix_approval_state"), "approval", ["state"], unique=False)
    op.create_index(op.f("ix_approval_unit_id"), "approval", ["unit_id"], unique=False)
    op.create_table(
        "approval_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("approval_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("box", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("opinion", AutoString(length=2000), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("signer_name", AutoString(length=64), nullable=True),
        sa.Column("done_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["approval_id"], ["approval.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("approval_id", "position", name="uq_approval_step"),
    )
    op.create_index(op.f("ix_approval_step_approval_id"), "approval_step", ["approval_id"], unique=False)


def _backfill() -> None:
    """Letters raised before: one pattern each (their rule); their warnings counted once per rule
    (the earlier letter keeps a warning a later one reused)."""
    bind = op.get_bind()
    letters = sa.table(
        "linked_warning",
        sa.column("id", sa.Integer()),
        sa.column("rule", sa.String()),
        sa.column("warning_ids", JSON),
        sa.column("topic_code", sa.String()),
        sa.column("person_id", sa.Integer()),
        sa.column("object_key", sa.String()),
        sa.column("patterns", JSON),
    )
    members = sa.table(
        "linked_member",
        sa.column("linked_id", sa.Integer()),
        sa.column("rule", sa.String()),
        sa.column("warning_id", sa.Integer()),
    )
    seen: set[tuple[str, int]] = set()
    rows = bind.execute(sa.select(letters).order_by(letters.c.id)).mappings().all()
    for row in rows:
        about = {k: row[k] for k in ("topic_code", "person_id", "object_key") if row[k] is not None}
        ids = list(row["warning_ids"] or [])
        pattern = {"rule": row["rule"], "warning_ids": ids, **about}
        bind.execute(sa.update(letters).where(letters.c.id == row["id"]).values(patterns=[pattern]))
        fresh = [w for w in ids if (row["rule"], w) not in seen]
        seen.update((row["rule"], w) for w in fresh)
        if fresh:
            bind.execute(
                sa.insert(members),
                [{"linked_id": row["id"], "rule": row["rule"], "warning_id": w} for w in fresh],
            )


def downgrade() -> None:
    op.drop_index(op.f("ix_approval_step_approval_id"), table_name="approval_step")
    op.drop_table("approval_step")
    op.drop_index(op.f("ix_approval_unit_id"), table_name="approval")
    op.drop_index(op.f("ix_approval_state"), table_name="approval")
    op.drop_index(op.f("ix_approval_kind"), table_name="approval")
    op.drop_table("approval")
    op.drop_index(op.f("ix_linked_member_linked_id"), table_name="linked_member")
    op.drop_table("linked_member")
    with op.batch_alter_table("linked_warning") as batch:
        batch.drop_column("patterns")
