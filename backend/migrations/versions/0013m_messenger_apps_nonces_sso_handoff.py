"""messenger: WeCom / DingTalk apps per unit (secrets sealed), callback nonces (replay guard),
single-use SSO handoff codes

Revision ID: 0013m
Revises: 0013i
Create Date: 2026-12-06 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import backend.kernel.db

revision: str = "0013m"
down_revision: str | None = "0013i"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "messenger_app",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("corp_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("agent_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("secret_sealed", sa.Text(), nullable=False),
        sa.Column("token_sealed", sa.Text(), nullable=True),
        sa.Column("aes_key_sealed", sa.Text(), nullable=True),
        sa.Column("api_base", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("oauth_base", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("app_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("open_api_base", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("show_topic", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("unit_id", "provider", name="uq_messenger_app"),
    )
    op.create_index(op.f("ix_messenger_app_unit_id"), "messenger_app", ["unit_id"], unique=False)
    op.create_table(
        "messenger_nonce",
        sa.Column("app_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("nonce", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("stamp", sa.BigInteger(), nullable=False),
        sa.Column("seen_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("app_id", "nonce"),
    )
    op.create_index(op.f("ix_messenger_nonce_seen_at"), "messenger_nonce", ["seen_at"], unique=False)
    op.create_table(
        "messenger_handoff",
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("browser_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("expires_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("code_hash"),
    )
    op.create_index(op.f("ix_messenger_handoff_person_id"), "messenger_handoff", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_messenger_handoff_person_id"), table_name="messenger_handoff")
    op.drop_table("messenger_handoff")
    op.drop_index(op.f("ix_messenger_nonce_seen_at"), table_name="messenger_nonce")
    op.drop_table("messenger_nonce")
    op.drop_index(op.f("ix_messenger_app_unit_id"), table_name="messenger_app")
    op.drop_table("messenger_app")
