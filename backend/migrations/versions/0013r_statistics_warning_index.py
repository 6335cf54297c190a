"""statistics: one index that answers the statistics of a caller's units and period from itself
(unit, raised, then every column the counts read, and the id the interview check joins on:
PostgreSQL then reads it by an index-only scan)

Revision ID: 0013r
Revises: 0013m
Create Date: 2026-12-06 16:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013r"
down_revision: str | None = "0013m"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = [
    "unit_id", "raised_at", "trial", "level", "state", "topic_code", "specialty", "finding", "due_at",
    "first_submitted_at", "person_id", "id",
]


def upgrade() -> None:
    op.create_index("ix_warning_stats", "warning", COLUMNS, unique=False)


def downgrade() -> None:
    op.drop_index("ix_warning_stats", table_name="warning")
