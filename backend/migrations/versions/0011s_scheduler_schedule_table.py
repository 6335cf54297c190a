"""scheduler: the schedule table (one row per periodic job: next due time, lease, last run), and
the day of a check-up campaign's last scheduled reminder (sent once a day, whatever the processes)

Revision ID: 0011s
Revises: 0010
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.kernel.db

revision: str = "0011s"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
# checkup_campaign is made by 0005 (another branch than 0010)
depends_on: str | Sequence[str] | None = "0005"


def upgrade() -> None:
    op.create_table(
        "schedule",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("next_due_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_until", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_due_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_started_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_finished_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_result", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("checkup_campaign") as batch:
        batch.add_column(sa.Column("reminded_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("checkup_campaign") as batch:
        batch.drop_column("reminded_on")
    op.drop_table("schedule")
