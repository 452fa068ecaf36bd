"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from crawler.sources import Source
from crawler.storage import schedule
from crawler.storage.engine import alembic_config, migrate, sessions
from crawler.storage.models import Base
from crawler.storage.schedule import Schedule
from crawler.storage.search import include_name
from crawler.storage.sources import sync_sources


def differences(engine) -> list:
    """What the migrated schema has that the models do not, and the other way round."""
    with engine.connect() as connection:
        # the same filter as migrations/env.py: search objects have no model
        context = MigrationContext.configure(connection, opts={"include_name": include_name})
        return compare_metadata(context, Base.metadata)


def test_migrations_match_the_models(engine):
    found = differences(engine)
    assert found == [], f"models and migrations differ: {found}"


def test_migrating_twice_is_harmless(engine):
    migrate(engine)
    migrate(engine)


def schedule_columns(engine) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns("source_schedule")}


def test_dropping_the_unread_rhythm_keeps_every_schedule_and_can_be_undone(engine):
    with sessions(engine)() as session:
        ids = sync_sources(session, [Source("hln", "feed", ("https://hln.example/feed",))])
        due = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
        state = Schedule(ids["hln"], 600.0, due, failures_in_row=2, health="failing")
        schedule.save(session, state)

    command.downgrade(alembic_config(engine), "0008")
    assert "rhythm_seconds" in schedule_columns(engine)
    migrate(engine)

    assert differences(engine) == []  # SQLite rebuilt the table with its keys
    with sessions(engine)() as session:
        assert schedule.load(session) == {ids["hln"]: state}
