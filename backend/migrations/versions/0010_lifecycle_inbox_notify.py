"""lifecycle: PostgreSQL tells listening servers whose inbox changed (NOTIFY probity_inbox)

Every insert, update or delete of a warning notifies the channel ``probity_inbox`` with the person
id(s) it belongs to; a TRUNCATE notifies ``*`` (everyone). PostgreSQL sends notifications when the
transaction commits, one per distinct payload, and takes no row lock for them, whoever writes (the
server, a worker, a rule run from the CLI, psql). Servers that LISTEN keep rendered inbox pages
until told (backend/warnings/inbox_watch.py). SQLite has its counter triggers (0009) instead.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 03:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "probity_inbox"

_ROWS = f"""
CREATE FUNCTION probity_inbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'DELETE' AND NEW.person_id IS NOT NULL THEN
    PERFORM pg_notify('{CHANNEL}', NEW.person_id::text);
  END IF;
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.person_id IS DISTINCT FROM NEW.person_id) THEN
    IF OLD.person_id IS NOT NULL THEN
      PERFORM pg_notify('{CHANNEL}', OLD.person_id::text);
    END IF;
  END IF;
  RETURN NULL;
END $$
"""
_ALL = f"""
CREATE FUNCTION probity_inbox_notify_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('{CHANNEL}', '*');
  RETURN NULL;
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_ROWS)
    op.execute(_ALL)
    op.execute(
        "CREATE TRIGGER warning_inbox_notify AFTER INSERT OR UPDATE OR DELETE ON warning "
        "FOR EACH ROW EXECUTE FUNCTION probity_inbox_notify()"
    )
    op.execute(
        "CREATE TRIGGER warning_inbox_notify_truncate AFTER TRUNCATE ON warning "
        "FOR EACH STATEMENT EXECUTE FUNCTION probity_inbox_notify_all()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS warning_inbox_notify_truncate ON warning")
    op.execute("DROP TRIGGER IF EXISTS warning_inbox_notify ON warning")
    op.execute("DROP FUNCTION IF EXISTS probity_inbox_notify_all()")
    op.execute("DROP FUNCTION IF EXISTS probity_inbox_notify()")
