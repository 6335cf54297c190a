"""registers: the fields form B.4 asks of a risk point (problem list, units, powers, rule basis)

Revision ID: 0014b
Revises: 0014d
Create Date: 2026-12-06 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014b"
down_revision: str | None = "0014d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXTS = {
    "inspection_findings": 1000,
    "typical_cases": 1000,
    "power_problems": 1000,
    "units": 200,
    "post_powers": 500,
    "powers": 500,
    "rule_basis": 1000,
}


def upgrade() -> None:
    with op.batch_alter_table("risk_point") as batch:
        for name, size in TEXTS.items():
            batch.add_column(sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=size), nullable=False, server_default=""))
        batch.add_column(sa.Column("has_rules", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("risk_point") as batch:
        batch.drop_column("has_rules")
        for name in reversed(list(TEXTS)):
            batch.drop_column(name)
