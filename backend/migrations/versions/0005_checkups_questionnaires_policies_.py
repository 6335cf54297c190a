"""checkups: questionnaires, policies, campaigns, responses, results, notices, care

Answers, notes, scores and grades are stored only sealed (AES-GCM) in the ``sealed`` columns.

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-23 15:33:12.322591
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import backend.kernel.db

revision: str = "0005"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = ("checkups",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checkup_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("psych_weight", sa.Float(), nullable=False),
        sa.Column("post_weight", sa.Float(), nullable=False),
        sa.Column("tenure_weight", sa.Float(), nullable=False),
        sa.Column(
            "dimension_weights", sa.JSON().with_variant(sa.JSON(none_as_null=True), "sqlite"), nullable=False
        ),
        sa.Column("psych_high", sa.Float(), nullable=False),
        sa.Column("psych_medium", sa.Float(), nullable=False),
        sa.Column("composite_high", sa.Float(), nullable=False),
        sa.Column("composite_medium", sa.Float(), nullable=False),
        sa.Column("tenure_full_years", sa.Float(), nullable=False),
        sa.Column("post_attention", sa.Float(), nullable=False),
        sa.Column("rotation_years", sa.Float(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("version"),
    )
    op.create_table(
        "checkup_questionnaire",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title_zh", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("title_en", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("scale", sa.JSON().with_variant(sa.JSON(none_as_null=True), "sqlite"), nullable=False),
        sa.Column("items", sa.JSON().with_variant(sa.JSON(none_as_null=True), "sqlite"), nullable=False),
        sa.Column("note_prompt_zh", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("note_prompt_en", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code", "version", name="uq_checkup_questionnaire_version"),
    )

    op.create_table(
        "checkup_campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.Column("opens_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closes_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("late_until", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("unit_ids", sa.JSON().with_variant(sa.JSON(none_as_null=True), "sqlite"), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["questionnaire_id"],
            ["checkup_questionnaire.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("checkup_campaign", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_checkup_campaign_questionnaire_id"), ["questionnaire_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_checkup_campaign_year"), ["year"], unique=False)

    op.create_table(
        "checkup_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("post_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=True),
        sa.Column("started_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("submissions", sa.Integer(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("reopened_until", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reopen_reason", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["checkup_campaign.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "person_id", name="uq_checkup_response_person"),
    )
    with op.batch_alter_table("checkup_response", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checkup_response_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkup_response_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkup_response_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkup_response_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "checkup_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("graded_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["checkup_policy.id"],
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["checkup_response.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("checkup_result", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checkup_result_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkup_result_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkup_result_response_id"), ["response_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkup_result_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "checkup_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("title_zh", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("title_en", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("body_zh", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("body_en", sqlmodel.sql.sqltypes.AutoString(length=800), nullable=False),
        sa.Column("created_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("checkup_notice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checkup_notice_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkup_notice_person_id"), ["person_id"], unique=False)

    op.create_table(
        "checkup_care",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("risk_type", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("assignee_person_id", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.Column("closed_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("checkup_care", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_checkup_care_assignee_person_id"), ["assignee_person_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_checkup_care_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkup_care_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkup_care_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkup_care_unit_id"), ["unit_id"], unique=False)


def downgrade() -> None:
    # drop_table drops the tables' indexes too
    op.drop_table("checkup_care")
    op.drop_table("checkup_notice")
    op.drop_table("checkup_result")
    op.drop_table("checkup_response")
    op.drop_table("checkup_campaign")
    op.drop_table("checkup_policy")
    op.drop_table("checkup_questionnaire")
