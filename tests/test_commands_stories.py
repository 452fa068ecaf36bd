"""The `stories` and `story` commands: list stories, show one with why each member joined."""

from __future__ import annotations

from datetime import timedelta

import click
import pytest
from click.testing import CliRunner

from crawler import placement
from crawler.storage.engine import open_engine, sessions
from crawler.storage.feed import FeedFilter, iter_feed
from newswatch.app import App
from newswatch.commands import review
from newswatch.commands.stories import stories, story
from tests.crawl_helpers import write_config
from tests.test_storage_stories import GERMAN, OTHER, T0, TEXT, make, setup


@pytest.fixture
def app(tmp_path):
    url = f"sqlite:///{tmp_path / 'newswatch.db'}"
    engine = open_engine(url)
    factory, source = setup(engine)
    with factory() as session:
        placement.add_article(session, source, make("https://a.example/1", TEXT, title="Coup"))
        placement.add_article(
            session,
            source,
            make(
                "https://c.example/3",
                GERMAN,
                when=T0 + timedelta(hours=5),
                language="de",
                title="Kokain-Netzwerk",
            ),
        )
        placement.add_article(session, source, make("https://d.example/4", OTHER, title="Gand"))
    engine.dispose()
    found = App(write_config(tmp_path / "newswatch.toml", []), url)
    yield found
    found.close()


def run(app: App, command: click.Command, *args: str) -> str:
    result = CliRunner().invoke(command, list(args), obj=app)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("command", [stories, story])
def test_help_has_an_example(command):
    output = CliRunner().invoke(command, ["--help"]).output
    assert "Example" in output and len(command.help) > 20


def test_stories_lists_size_languages_and_outlets(app):
    listed = run(app, stories)
    assert "Coup" in listed and "Gand" in listed and "de, fr" in listed
    assert "Gand" not in run(app, stories, "--min-size", "2")
    assert "No stored stories match." in run(app, stories, "--since", "2026-11-11")


def test_stories_put_the_latest_activity_first_and_show_both_dates(app):
    # "Coup" (the lower id) gained a German report five hours after "Gand" was published.
    listed = run(app, stories)
    header = listed.splitlines()[0]
    assert "first seen" in header and "last active" in header
    assert listed.index("Coup") < listed.index("Gand"), listed


def test_story_shows_members_and_why_they_joined(app):
    with sessions(app.engine())() as session:
        story_id = list(iter_feed(session, FeedFilter()))[-1].story_id
    shown = run(app, story, str(story_id))
    assert "2 articles from 1 outlet (de, fr)" in shown
    assert "first" in shown and "shares" in shown and "Julien Moinil" in shown
    missing = CliRunner().invoke(story, ["999"], obj=app)
    assert missing.exit_code == 1 and "no story with id 999" in missing.output


def test_articles_collapse_shows_each_story_once_with_its_size(app):
    collapsed = run(app, review.articles, "--collapse")
    assert "(story #" in collapsed and "2 articles, 1 outlet" in collapsed
    assert "Kokain-Netzwerk" not in collapsed  # the German report is the story's second
    assert "Kokain-Netzwerk" in run(app, review.articles)
