"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from crawler.storage.engine import migrate
from crawler.storage.models import Base
from crawler.storage.search import include_name


def test_migrations_match_the_models(engine):
    with engine.connect() as connection:
        # the same filter as migrations/env.py: search objects have no model
        context = MigrationContext.configure(connection, opts={"include_name": include_name})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], f"models and migrations differ: {differences}"


def test_migrating_twice_is_harmless(engine):
    migrate(engine)
    migrate(engine)
