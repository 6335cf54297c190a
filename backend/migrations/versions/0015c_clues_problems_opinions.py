"""clues, problems, opinions: problem clues (B.16), the problem list (§5.10) and collaborative
supervision opinions (B.15), each with its timeline

Revision ID: 0015c
Revises: 0015a
Create Date: 2026-12-06 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import backend.kernel.db

revision: str = "0015c"
down_revision: str | None = "0015a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AutoString = sqlmodel.sql.sqltypes.AutoString


def _step_table(record: str) -> None:
    """A record's timeline (``backend.kernel.flow.StepFields`` and the record's key)."""
    op.create_table(
        f"{record}_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", AutoString(length=24), nullable=False),
        sa.Column("actor_person_id", sa.Integer(), nullable=True),
        sa.Column("channel", AutoString(length=16), nullable=False),
        sa.Column("note", AutoString(length=4000), nullable=True),
        sa.Column("data", sa.JSON().with_variant(sa.JSON(none_as_null=True), "sqlite"), nullable=False),
        sa.Column(f"{record}_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint([f"{record}_id"], [f"{record}.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f(f"ix_{record}_step_{record}_id"), f"{record}_step", [f"{record}_id"], unique=False)


def upgrade() -> None:
    op.create_table(
        "clue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("warning_id", sa.Integer(), nullable=True),
        sa.Column("intake_report_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=True),
        sa.Column("subject_person_id", sa.Integer(), nullable=True),
        sa.Column("subject_name", AutoString(length=60), nullable=False),
        sa.Column("subject_unit", AutoString(length=120), nullable=False),
        sa.Column("subject_post", AutoString(length=60), nullable=False),
        sa.Column("subject_rank", AutoString(length=40), nullable=False),
        sa.Column("reporter_name", AutoString(length=60), nullable=False),
        sa.Column("reporter_unit", AutoString(length=120), nullable=False),
        sa.Column("reporter_post", AutoString(length=60), nullable=False),
        sa.Column("letter_unit", AutoString(length=120), nullable=False),
        sa.Column("letter_no", AutoString(length=60), nullable=False),
        sa.Column("nature", AutoString(length=200), nullable=False),
        sa.Column("summary", AutoString(length=4000), nullable=False),
        sa.Column("proposal", AutoString(length=2000), nullable=False),
        sa.Column("instruction", AutoString(length=2000), nullable=False),
        sa.Column("instructed_by", sa.Integer(), nullable=True),
        sa.Column("instructed_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("registered_by", sa.Integer(), nullable=False),
        sa.Column("registered_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("triaged_by", sa.Integer(), nullable=True),
        sa.Column("handed_by", sa.Integer(), nullable=True),
        sa.Column("handed_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("receiver_person_id", sa.Integer(), nullable=True),
        sa.Column("received_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("outcome_text", AutoString(length=4000), nullable=False),
        sa.Column("concluded_by", sa.Integer(), nullable=True),
        sa.Column("concluded_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_clue_intake_report_id"), "clue", ["intake_report_id"], unique=False)
    op.create_index(op.f("ix_clue_receiver_person_id"), "clue", ["receiver_person_id"], unique=False)
    op.create_index(op.f("ix_clue_registered_at"), "clue", ["registered_at"], unique=False)
    op.create_index(op.f("ix_clue_state"), "clue", ["state"], unique=False)
    op.create_index(op.f("ix_clue_subject_person_id"), "clue", ["subject_person_id"], unique=False)
    op.create_index(op.f("ix_clue_unit_id"), "clue", ["unit_id"], unique=False)
    op.create_index(op.f("ix_clue_warning_id"), "clue", ["warning_id"], unique=False)
    op.create_table(
        "opinion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("problem", AutoString(length=4000), nullable=False),
        sa.Column("advice", AutoString(length=4000), nullable=False),
        sa.Column("drafted_by", sa.Integer(), nullable=False),
        sa.Column("drafted_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("leader_opinion", AutoString(length=2000), nullable=False),
        sa.Column("leader_by", sa.Integer(), nullable=True),
        sa.Column("leader_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("committee_opinion", AutoString(length=2000), nullable=False),
        sa.Column("committee_by", sa.Integer(), nullable=True),
        sa.Column("committee_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answer", AutoString(length=4000), nullable=False),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.Column("answered_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("follow_up", AutoString(length=2000), nullable=False),
        sa.Column("closed_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_opinion_drafted_at"), "opinion", ["drafted_at"], unique=False)
    op.create_index(op.f("ix_opinion_state"), "opinion", ["state"], unique=False)
    op.create_index(op.f("ix_opinion_unit_id"), "opinion", ["unit_id"], unique=False)
    op.create_table(
        "problem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("title", AutoString(length=200), nullable=False),
        sa.Column("description", AutoString(length=4000), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("category", sa.String(length=12), nullable=True),
        sa.Column("registered_by", sa.Integer(), nullable=False),
        sa.Column("registered_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("assignee_person_id", sa.Integer(), nullable=True),
        sa.Column("measures", AutoString(length=4000), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("rectified_text", AutoString(length=4000), nullable=False),
        sa.Column("rectified_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("checked_by", sa.Integer(), nullable=True),
        sa.Column("closed_at", backend.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("recheck_on", sa.Date(), nullable=True),
        sa.Column("rechecks", sa.Integer(), nullable=False),
        sa.Column("money_recovered", sa.Numeric(precision=14, scale=2, asdecimal=False), nullable=False),
        sa.Column("problems_avoided", sa.Integer(), nullable=False),
        sa.Column("effect_note", AutoString(length=1000), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_problem_assignee_person_id"), "problem", ["assignee_person_id"], unique=False)
    op.create_index(op.f("ix_problem_registered_at"), "problem", ["registered_at"], unique=False)
    op.create_index(op.f("ix_problem_state"), "problem", ["state"], unique=False)
    op.create_index(op.f("ix_problem_unit_id"), "problem", ["unit_id"], unique=False)
    for record in ("clue", "opinion", "problem"):
        _step_table(record)


def downgrade() -> None:
    for record in ("problem", "opinion", "clue"):
        op.drop_index(op.f(f"ix_{record}_step_{record}_id"), table_name=f"{record}_step")
        op.drop_table(f"{record}_step")
    op.drop_index(op.f("ix_problem_unit_id"), table_name="problem")
    op.drop_index(op.f("ix_problem_state"), table_name="problem")
    op.drop_index(op.f("ix_problem_registered_at"), table_name="problem")
    op.drop_index(op.f("ix_problem_assignee_person_id"), table_name="problem")
    op.drop_table("problem")
    op.drop_index(op.f("ix_opinion_unit_id"), table_name="opinion")
    op.drop_index(op.f("ix_opinion_state"), table_name="opinion")
    op.drop_index(op.f("ix_opinion_drafted_at"), table_name="opinion")
    op.drop_table("opinion")
    op.drop_index(op.f("ix_clue_warning_id"), table_name="clue")
    op.drop_index(op.f("ix_clue_unit_id"), table_name="clue")
    op.drop_index(op.f("ix_clue_subject_person_id"), table_name="clue")
    op.drop_index(op.f("ix_clue_state"), table_name="clue")
    op.drop_index(op.f("ix_clue_registered_at"), table_name="clue")
    op.drop_index(op.f("ix_clue_receiver_person_id"), table_name="clue")
    op.drop_index(op.f("ix_clue_intake_report_id"), table_name="clue")
    op.drop_table("clue")
