"""`newswatch copy-db`: a SQLite archive moves to PostgreSQL whole, ids and text unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts.archive import compile_search
from alerts.engine import match_new_articles
from crawler import placement
from crawler.fingerprints import fingerprint
from crawler.sources import Source
from crawler.storage import articles, stories
from crawler.storage.engine import open_engine, sessions
from crawler.storage.models import Article, Base
from crawler.storage.search import matches
from crawler.storage.sources import sync_sources
from newswatch.app import App
from newswatch.commands.copy_db import copy_db
from tests.alerts_fixtures import T0, settings
from tests.crawl_helpers import write_config
from tests.databases import fresh_postgres, postgres_unreachable, skip_without_postgres
from tests.test_storage_articles import OTHER_TEXT, TEXT, make, setup

RULES = {
    "alerts": {"backfill_hours": 1_000_000},
    "rules": [{"name": "mm", "query": '"Mocro-Maffia"'}],
}


@pytest.fixture
def target_url() -> Iterator[str]:
    skip_without_postgres(postgres_unreachable())
    with fresh_postgres() as url:
        yield url


@pytest.fixture
def archive(tmp_path: Path) -> tuple[Path, str]:
    """A config and a SQLite database with sources, articles, a story copy, a match."""
    url = f"sqlite:///{tmp_path / 'newswatch.db'}"
    engine = open_engine(url)
    factory, ids = setup(engine)
    with factory() as session:
        placement.add_article(session, ids["tagesschau"], make("https://t.example/a"))
        placement.add_article(session, ids["le-soir"], make("https://s.example/b", title="Kopie"))
        placement.add_article(session, ids["tagesschau"], make("https://t.example/c", OTHER_TEXT))
    # a match and its pending delivery (channel "console" is the default)
    assert match_new_articles(engine, settings(RULES), now=T0).matches == 1
    engine.dispose()
    return write_config(tmp_path / "newswatch.toml", []), url


def invoke(config: Path, source_url: str, *args: str):
    return CliRunner().invoke(copy_db, ["--config", str(config), *args], obj=App(None, source_url))


def counts(url: str) -> dict[str, int]:
    engine = open_engine(url)
    with engine.connect() as connection:
        found = {
            table.name: connection.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }
    engine.dispose()
    return found


def searched(session: Session) -> list[int]:
    """The ids full-text search finds for a word of the third article."""
    dialect = session.get_bind().dialect.name
    return list(
        session.scalars(select(Article.id).where(matches(dialect, compile_search("Zöllner").index)))
    )


def found_by_bands(session: Session) -> list[int]:
    """The ids the story index finds as sharing band keys with the first article's text."""
    return sorted(stories.band_candidates(session, fingerprint(TEXT).bands, 10))


def test_every_table_moves_to_postgresql_unchanged(archive, target_url):
    config, source_url = archive
    result = invoke(config, source_url, "--to", target_url, "--batch", "2")
    assert result.exit_code == 0, result.output
    assert "articles" in result.output and "3 rows" in result.output

    expected = counts(source_url)
    assert expected["articles"] == 3 and expected["alert_deliveries"] == 1
    assert counts(target_url) == expected

    source, target = open_engine(source_url), open_engine(target_url)
    with sessions(source)() as before, sessions(target)() as after:
        old, _ = articles.get_article(before, 1)
        new, _ = articles.get_article(after, 1)
        assert (new.title, new.text, new.story_id) == (old.title, old.text, old.story_id)
        assert new.text == TEXT and "Behörden" in new.text
        assert new.published_at == old.published_at == datetime(2026, 11, 24, 8, tzinfo=UTC)
        assert new.published_at.tzinfo is not None and new.stored_at == old.stored_at
        # the expression index answers on the copy
        assert searched(after) == [3]
        # and so does the story index's GIN index
        assert found_by_bands(after) == found_by_bands(before) == [1, 2]
        # the sequences were moved past the copied ids: a new article gets a new one
        ids = sync_sources(after, [Source("tagesschau", "feed", ("https://t.example/rss",), "de")])
        stored = placement.add_article(
            after, ids["tagesschau"], make("https://t.example/new", "Neu")
        )
    assert stored.article_id == 4
    source.dispose()
    target.dispose()


def test_a_target_holding_articles_is_refused(archive, target_url):
    config, source_url = archive
    assert invoke(config, source_url, "--to", target_url).exit_code == 0
    again = invoke(config, source_url, "--to", target_url)
    assert again.exit_code == 1
    assert "already holds articles" in again.output
    assert "Traceback" not in again.output
    assert again.exception is None or isinstance(again.exception, SystemExit)


def test_a_copy_into_sqlite_rebuilds_its_search_index(archive, tmp_path):
    config, source_url = archive
    target_url = f"sqlite:///{tmp_path / 'copy.db'}"
    result = invoke(config, source_url, "--to", target_url)
    assert result.exit_code == 0, result.output
    assert counts(target_url) == counts(source_url)
    engine = open_engine(target_url)
    with sessions(engine)() as session:
        assert searched(session) == [3]
        assert found_by_bands(session) == [1, 2]  # the story tokens' FTS5 table too
    engine.dispose()


def test_help_shows_an_example():
    result = CliRunner().invoke(copy_db, ["--help"])
    assert result.exit_code == 0 and "Example" in result.output
