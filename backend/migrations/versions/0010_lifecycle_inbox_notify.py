"""lifecycle: PostgreSQL tells listening servers what changed (NOTIFY probity_changes)

Every insert, update or delete of a warning notifies ``inbox:<person id>`` for the person(s) it
belongs to, a TRUNCATE ``inbox:*``; any write to accounts or sign-in sessions notifies ``auth:*``,
to people, units or posts ``org:*``.
PostgreSQL sends notifications when the transaction commits, one per distinct payload, and takes
no row lock for them, whoever writes (the server, a worker, a rule run from the CLI, psql). Servers
that LISTEN keep inbox pages, signed-in sessions and people's facts until told (backend/kernel/watch.py). SQLite
has its counter triggers (0009) and inline reads instead.

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

CHANNEL = "probity_changes"

_FUNCTIONS = {
    "probity_notify_inbox": f"""
CREATE FUNCTION probity_notify_inbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'DELETE' AND NEW.person_id IS NOT NULL THEN
    PERFORM pg_notify('{CHANNEL}', 'inbox:' || NEW.person_id::text);
  END IF;
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.person_id IS DISTINCT FROM NEW.person_id) THEN
    IF OLD.person_id IS NOT NULL THEN
      PERFORM pg_notify('{CHANNEL}', 'inbox:' || OLD.person_id::text);
    END IF;
  END IF;
  RETURN NULL;
END $$
""",
    "probity_notify_topic": f"""
CREATE FUNCTION probity_notify_topic() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('{CHANNEL}', TG_ARGV[0] || ':*');
  RETURN NULL;
END $$
""",
}
#: trigger → (table, its definition after ON <table>)
_TRIGGERS = {
    "warning_notify_inbox": (
        "warning",
        "AFTER INSERT OR UPDATE OR DELETE ON warning FOR EACH ROW EXECUTE FUNCTION probity_notify_inbox()",
    ),
    "warning_notify_inbox_truncate": (
        "warning",
        "AFTER TRUNCATE ON warning FOR EACH STATEMENT EXECUTE FUNCTION probity_notify_topic('inbox')",
    ),
    "account_notify_auth": (
        "account",
        "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON account "
        "FOR EACH STATEMENT EXECUTE FUNCTION probity_notify_topic('auth')",
    ),
    "auth_session_notify_auth": (
        "auth_session",
        "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON auth_session "
        "FOR EACH STATEMENT EXECUTE FUNCTION probity_notify_topic('auth')",
    ),
    **{
        f"{table}_notify_org": (
            table,
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION probity_notify_topic('org')",
        )
        for table in ("person", "unit", "post")
    },
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for body in _FUNCTIONS.values():
        op.execute(body)
    for name, (_, definition) in _TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {definition}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, (table, _) in _TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    for name in _FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {name}()")
