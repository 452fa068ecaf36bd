"""Alembic environment: runs migrations on the engine newswatch hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from crawler.storage.engine import migration_lock
from crawler.storage.models import Base
from crawler.storage.unmodelled import include_name

# Any number that is ours alone: the key of the PostgreSQL lock that serialises migrations.
MIGRATION_LOCK = 0x6E657773

engine = context.config.attributes["engine"]
# On SQLite the same serialisation is a file lock, taken before the first connection.
with migration_lock(engine), engine.begin() as connection:
    if connection.dialect.name == "postgresql":
        # Workers and dispatchers starting together on an empty database would each create
        # the schema; the second waits here, then finds it at head and does nothing.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # the search and story token indexes are made by hand and have no model
        include_name=include_name,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
