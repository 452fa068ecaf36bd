"""One streamed feed query: the same rows, in the same order, for the same filters everywhere.

`newswatch export`, `newswatch articles`, the web export, the feed page, /api/articles and
the Atom feeds all read crawler.storage.feed.iter_feed.
"""

from __future__ import annotations

import csv
import inspect
import io
import json
import re
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from crawler.storage import feed
from crawler.storage.engine import sessions
from crawler.storage.feed import FeedFilter
from newswatch.cli import cli
from newswatch.commands import export as export_command
from newswatch.web import atom
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
        ids["mocro_near"],
        ids["mocro_copy"],
        ids["mocro"],
    ]


def page_ids(client, query: str) -> list[int]:
    """The feed page's article ids, following its "Older »" links to the end."""
    found, link = [], f"/?{query}"
    while link:
        response = client.get(link)
        assert response.status_code == 200, response.text
        found += [int(n) for n in re.findall(r'<h2[^>]*><a href="/articles/(\d+)"', response.text)]
        following = re.search(r'<a rel="next" href="([^"]+)"', response.text)
        link = following and following.group(1).replace("&amp;", "&")
    return found


def api_ids(client, query: str) -> list[int]:
    """/api/articles' ids, following `next_url` to the end."""
    found, url = [], f"/api/articles?{query}"
    while url:
        page = client.get(url).json()
        found += [article["id"] for article in page["items"]]
        url = page["next_url"] and page["next_url"].removeprefix("http://localhost")
    return found


def csv_ids(client, query: str) -> list[int]:
    response = client.get(f"/export.csv?{query}")
    assert response.status_code == 200, response.text
    return [int(row["id"]) for row in csv.DictReader(io.StringIO(response.text))]


def articles_ids(site, config, *args: str) -> list[int]:
    """`newswatch articles`: the first column of its table."""
    url = site.engine.url.render_as_string(hide_password=False)
    command = ["--config", str(config), "--database", url, "articles", "-n", "100", *args]
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 0, result.output
    return [int(line.split()[0]) for line in result.output.splitlines() if line[:1].isdigit()]


def atom_entries(client, path: str) -> list[str]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    entries = ET.fromstring(response.content).findall("{http://www.w3.org/2005/Atom}entry")
    return [entry.findtext("{http://www.w3.org/2005/Atom}id") for entry in entries]


@pytest.mark.parametrize(
    ("args", "query"),
    [
        (("--collapse",), "collapse=1"),
        ((), ""),
        (("--source", "le-soir", "--collapse"), "source=le-soir&collapse=1"),
        (("--lang", "de", "--collapse"), "lang=de&collapse=1"),
        (("--text", "antwerpen", "--collapse"), "q=antwerpen&collapse=1"),
        (("--text", "festnahmen", "--collapse"), "q=festnahmen&collapse=1"),
        (("--text", "mocro*"), "q=mocro*"),
    ],
)
def test_the_page_the_api_the_exports_and_the_cli_list_the_same_rows(
    site, client, config, args, query
):
    exported = cli_ids(site, config, *args)
    assert exported, f"{args}: the view is empty, so the comparison proves nothing"
    assert page_ids(client, query) == exported, f"the feed page, ?{query}"
    assert api_ids(client, query) == exported, f"/api/articles?{query}"
    assert csv_ids(client, query) == exported, f"/export.csv?{query}"
    assert articles_ids(site, config, *args) == exported, f"newswatch articles {args}"
    if "--collapse" in args:
        with sessions(site.engine)() as session:
            stories = [feed.get_item(session, n).story_id for n in exported]
        entries = [atom.story_entry_id(story) for story in stories]
        assert atom_entries(client, f"/feeds/search?{query}") == entries, f"Atom, ?{query}"


def test_collapse_is_one_row_per_story_on_every_surface(site, client, config):
    """The story of three copies (one a near-duplicate) is its first article everywhere."""
    ids = site.ids
    story = {ids["mocro"], ids["mocro_copy"], ids["mocro_near"]}
    for listed in (
        page_ids(client, "collapse=1"),
        api_ids(client, "collapse=1"),
        csv_ids(client, "collapse=1"),
        cli_ids(site, config, "--collapse"),
        articles_ids(site, config, "--collapse"),
    ):
        assert set(listed) & story == {ids["mocro"]}
    # searched, the near-duplicate alone holds the word: it stands for the story
    assert page_ids(client, "q=festnahmen&collapse=1") == [ids["mocro_near"]]
    relevance = api_ids(client, "q=festnahmen&collapse=1&order=relevance")
    assert relevance == [ids["mocro_near"]]
    tagged = atom_entries(client, "/feeds/tags/be-ma-security")
    assert tagged.count(atom.story_entry_id(ids["story_mocro"])) == 1


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
