"""Alembic environment: runs migrations on the engine newswatch hands over."""

from __future__ import annotations

from alembic import context

from crawler.storage.models import Base
from crawler.storage.search import include_name

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # the search table and index are made by hand in 0005 and have no model
        include_name=include_name,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
