"""org: post history (person_post), one open row per person to start with

Revision ID: 0016e2
Revises: 0016e
Create Date: 2026-12-06 22:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016e2"
down_revision: str | None = "0016e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_person_post_person_id"), "person_post", ["person_id"], unique=False)
    # the post each person holds now, since they started in it (earlier changes are in the trail)
    op.execute(
        "INSERT INTO person_post (person_id, post_id, unit_id, since, until, source) "
        "SELECT id, post_id, unit_id, started_in_post, NULL, 'backfill' FROM person"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_person_post_person_id"), table_name="person_post")
    op.drop_table("person_post")
