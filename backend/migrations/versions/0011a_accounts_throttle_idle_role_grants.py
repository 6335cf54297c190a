"""accounts: sign-in throttling table, session idle time, role grants awaiting approval

Failed sign-ins move from ``account`` (failed_logins, locked_until: a read-modify-write counter)
to ``login_throttle``, counted per username and per client address by conditional upserts.
``auth_session.last_seen_at`` (sign-in or last refresh) ends sessions unused too long.
``role_grant`` holds committee and inspector roles one administrator asked for, in force once
another approves.

Revision ID: 0011a
Revises: 0010
Create Date: 2026-11-25 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import backend.kernel.db

revision: str = "0011a"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("window_ends_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.add_column(
        "auth_session", sa.Column("last_seen_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True)
    )
    op.drop_column("account", "failed_logins")
    op.drop_column("account", "locked_until")
    op.create_table(
        "role_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("requested_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["requested_by"], ["person.id"]),
        sa.ForeignKeyConstraint(["decided_by"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_role_grant_person_id"), "role_grant", ["person_id"], unique=False)
    op.create_index(
        "ix_role_grant_one_pending",
        "role_grant",
        ["person_id", "role"],
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_role_grant_one_pending", table_name="role_grant")
    op.drop_index(op.f("ix_role_grant_person_id"), table_name="role_grant")
    op.drop_table("role_grant")
    op.add_column(
        "account", sa.Column("locked_until", backend.kernel.db.UTCDateTime(timezone=True), nullable=True)
    )
    op.add_column("account", sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
    op.drop_column("auth_session", "last_seen_at")
    op.drop_table("login_throttle")
