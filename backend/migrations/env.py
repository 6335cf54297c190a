"""Alembic environment: run with a connection handed in by backend.kernel.db."""

from __future__ import annotations

from alembic import context

from backend.kernel.db import all_metadata

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("Run migrations with `probity db upgrade`; it hands Alembic a connection.")
    context.configure(
        connection=connection,
        target_metadata=all_metadata(),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
