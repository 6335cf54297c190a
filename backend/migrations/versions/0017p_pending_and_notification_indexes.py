"""indexes for work that grew with the history: the trail's pending records (every sealer pass
walked all sealed ones), a person's notifications newest first (person_id, id) and a person's
inbox counts from the index alone (state added to person, trial, level)

Revision ID: 0017p
Revises: 0016t
Create Date: 2026-12-07 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017p"
down_revision: str | None = "0016t"
branch_labels: str | Sequence[str] | None = None
#: the inbox count index replaced here is made on the branch of 0008
depends_on: str | Sequence[str] | None = ("0008",)

PENDING = sa.text("seq IS NULL")


def upgrade() -> None:
    op.create_index(
        "ix_audit_pending", "audit_record", ["id"], postgresql_where=PENDING, sqlite_where=PENDING
    )
    op.create_index("ix_event_recipient_person", "event_recipient", ["person_id", "id"])
    op.drop_index("ix_event_recipient_person_id", table_name="event_recipient")
    op.create_index("ix_warning_person_tally", "warning", ["person_id", "trial", "level", "state"])
    op.drop_index("ix_warning_person_trial_level", table_name="warning")


def downgrade() -> None:
    op.create_index("ix_warning_person_trial_level", "warning", ["person_id", "trial", "level"])
    op.drop_index("ix_warning_person_tally", table_name="warning")
    op.create_index("ix_event_recipient_person_id", "event_recipient", ["person_id"])
    op.drop_index("ix_event_recipient_person", table_name="event_recipient")
    op.drop_index("ix_audit_pending", table_name="audit_record")
