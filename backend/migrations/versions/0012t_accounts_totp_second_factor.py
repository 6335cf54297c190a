"""accounts: the TOTP second factor — the sealed secret per account, one-time recovery codes
(keyed hashes only) and the short-lived, single-use second step of a sign-in

Revision ID: 0012t
Revises: 0011a
Create Date: 2026-12-06 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import backend.kernel.db

revision: str = "0012t"
down_revision: str | None = "0011a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "totp_factor",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("secret_sealed", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_step", sa.Integer(), nullable=True),
        sa.Column("created_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("activated_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_table(
        "totp_recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("used_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_totp_recovery_code_account_id"), "totp_recovery_code", ["account_id"], unique=False
    )
    op.create_table(
        "totp_challenge",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("expires_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_totp_challenge_account_id"), "totp_challenge", ["account_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_totp_challenge_account_id"), table_name="totp_challenge")
    op.drop_table("totp_challenge")
    op.drop_index(op.f("ix_totp_recovery_code_account_id"), table_name="totp_recovery_code")
    op.drop_table("totp_recovery_code")
    op.drop_table("totp_factor")
