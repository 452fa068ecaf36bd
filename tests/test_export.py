"""`newswatch export` and the web export: one streamed query, the same rows for the same filters."""

from __future__ import annotations

import inspect
import json

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from crawler.storage import feed
from crawler.storage.engine import sessions
from crawler.storage.feed import FeedFilter
from newswatch.cli import cli
from newswatch.commands import export as export_command
from tests import web_fixtures
from tests.crawl_helpers import write_config


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request, tmp_path_factory):
    yield from web_fixtures.site(request.param, tmp_path_factory.mktemp("export"))


@pytest.fixture(scope="module")
def client(site):
    with TestClient(site.app(page_size=2), base_url="http://localhost") as client:
        yield client


@pytest.fixture(scope="module")
def config(site, tmp_path_factory):
    sources = web_fixtures.SETTINGS["sources"]
    return write_config(tmp_path_factory.mktemp("export-config") / "newswatch.toml", sources)


def cli_export(site, config, *args: str):
    url = site.engine.url.render_as_string(hide_password=False)
    command = ["--config", str(config), "--database", url, "export", "--format", "jsonl", *args]
    return CliRunner().invoke(cli, command)


def cli_ids(site, config, *args: str) -> list[int]:
    result = cli_export(site, config, *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line)["id"] for line in result.stdout.splitlines()]


def web_ids(client, query: str) -> list[int]:
    response = client.get(f"/export.jsonl?{query}")
    assert response.status_code == 200, response.text
    return [json.loads(line)["id"] for line in response.text.splitlines()]


@pytest.mark.parametrize(
    ("args", "query"),
    [
        ((), ""),
        (("--collapse",), "collapse=1"),
        (("--source", "le-soir", "--collapse"), "source=le-soir&collapse=1"),
        (("--lang", "de", "--since", "2026-11-29T12:00:00"), "lang=de&since=2026-11-29T12:00:00"),
        (("--text", "mocro*"), "q=mocro*"),
        (("--text", "mocro*", "--collapse"), "q=mocro*&collapse=1"),
        (("--text", "antwerpen -festnahmen"), "q=antwerpen+-festnahmen"),
        (("--text", "!!!"), "q=%21%21%21"),
    ],
)
def test_the_cli_and_the_web_export_the_same_rows_in_the_same_order(
    site, client, config, args, query
):
    assert cli_ids(site, config, *args) == web_ids(client, query), f"{args} vs ?{query}"


def test_collapse_keeps_each_story_once_as_its_first_article_the_filters_keep(site, config):
    ids = site.ids
    story = {ids["mocro"], ids["mocro_copy"], ids["mocro_near"]}
    everything = cli_ids(site, config)
    assert story <= set(everything)
    collapsed = cli_ids(site, config, "--collapse")
    assert set(collapsed) & story == {ids["mocro"]}
    assert len(collapsed) == len(everything) - 2
    # the story's founder is filtered out: its first article among le-soir's stands for it
    assert ids["mocro_copy"] in cli_ids(site, config, "--source", "le-soir", "--collapse")
    assert cli_ids(site, config, "--text", "mocro*", "--collapse") == [ids["mocro"]]
    assert cli_ids(site, config, "--text", "mocro*") == [
        ids["mocro_near"], ids["mocro_copy"], ids["mocro"]]  # fmt: skip


def test_a_search_that_does_not_parse_names_the_option(site, config):
    result = cli_export(site, config, "--text", "(mocro")
    assert result.exit_code == 2
    assert "--text" in result.output


class _Counted:
    """feed_page, counting its calls."""

    def __init__(self, monkeypatch):
        self.calls = 0
        self.real = feed.feed_page
        monkeypatch.setattr(feed, "feed_page", self)

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.real(*args, **kwargs)


def test_the_export_stream_yields_before_the_query_is_exhausted(site, monkeypatch):
    monkeypatch.setattr(export_command, "BATCH", 2)
    pages = _Counted(monkeypatch)
    with sessions(site.engine)() as session:
        stream = export_command.export_items(session, FeedFilter(), None)
        assert inspect.isgenerator(stream)
        assert pages.calls == 0  # nothing is read before the first row is asked for
        next(stream)
        assert pages.calls == 1  # one page of 2 rows, not the 8 of the view
        assert len(list(stream)) == 7
    assert pages.calls == 4


def test_the_cli_writes_rows_as_it_reads_them(site, config, monkeypatch):
    """The second page fails: the first page's rows were written already, not collected."""
    monkeypatch.setattr(export_command, "BATCH", 2)
    real = feed.feed_page

    def first_page_only(session, where, after, limit):
        if after is not None:
            raise RuntimeError("the second page was read")
        return real(session, where, after, limit)

    monkeypatch.setattr(feed, "feed_page", first_page_only)
    result = cli_export(site, config)
    assert isinstance(result.exception, RuntimeError)
    assert len(result.stdout.splitlines()) == 2
