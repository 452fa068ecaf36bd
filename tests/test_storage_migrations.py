"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from crawler import placement
from crawler.dedupe import BANDS
from crawler.placement import Outcome
from crawler.sources import Source
from crawler.storage import schedule, stories
from crawler.storage.engine import alembic_config, migrate, sessions
from crawler.storage.models import Base
from crawler.storage.models.stories import StoryIndex
from crawler.storage.schedule import Schedule
from crawler.storage.sources import sync_sources
from crawler.storage.unmodelled import include_name
from tests.test_storage_stories import GERMAN, OTHER, T0, TEXT, make, setup


def differences(engine) -> list:
    """What the migrated schema has that the models do not, and the other way round."""
    with engine.connect() as connection:
        # search and story token indexes have no model: made by hand in 0005 and 0010
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


def index_rows(engine) -> dict[int, tuple]:
    with sessions(engine)() as session:
        rows = session.execute(select(StoryIndex)).scalars().all()
        return {
            row.article_id: (
                row.story_id,
                row.dated_at,
                sorted(row.tokens),
                sorted(row.evidence.split("\n")),
            )
            for row in rows
        }


def test_an_archive_of_0009_keeps_its_story_index_in_one_row_per_article(engine):
    factory, source = setup(engine)
    other = OTHER + " Le procureur Julien Moinil n'a pas souhaité commenter."
    with factory() as session:
        first = placement.add_article(session, source, make("https://a.example/1", TEXT))
        placement.add_article(session, source, make("https://d.example/4", other))
    before = index_rows(engine)
    assert len(before) == 2

    command.downgrade(alembic_config(engine), "0009")
    with engine.connect() as connection:
        bands = connection.scalar(text("SELECT count(*) FROM article_bands"))
        keys = connection.scalar(text("SELECT count(*) FROM article_evidence"))
        counted = dict(connection.execute(text("SELECT key, stories FROM evidence_counts")).all())
    assert bands == 2 * BANDS
    assert keys == sum(len(row[3]) for row in before.values())
    assert counted["pair:julien moinil"] == 2 and counted["pair:karim haddaoui"] == 1
    migrate(engine)

    assert differences(engine) == []
    assert index_rows(engine) == before, "0010 must move every band and key into one row"
    with factory() as session:
        # a key of one story keeps no count
        several = {key: n for key, n in counted.items() if n > 1}
        assert stories.archive_spread(session, counted) == several
        assert several["pair:julien moinil"] == 2
        # found again through the moved rows: a copy by its bands, a translation by its keys
        copy = placement.add_article(session, source, make("https://b.example/2", TEXT[:-40]))
        german = placement.add_article(
            session,
            source,
            make("https://c.example/3", GERMAN, when=T0 + timedelta(hours=5), language="de"),
        )
    assert copy.outcome is Outcome.DUPLICATE_TEXT and copy.story_id == first.story_id
    assert german.outcome is Outcome.NEW and german.story_id == first.story_id
