"""The command line: every command explains itself; review commands read the stored feed."""

from __future__ import annotations

import csv
import io
import json

import click
import pytest
from click.testing import CliRunner

from newswatch.cli import cli
from newswatch.demo.site import NewsSite
from tests.crawl_helpers import newswatch, rows, write_config


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from all_commands(command, (*prefix, name))


@pytest.mark.parametrize("path", [p for p, _ in all_commands(cli)], ids=" ".join)
def test_every_command_has_help_with_an_example(path):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    command = dict(all_commands(cli))[path]
    assert command.help and len(command.help.strip()) > 20, f"{path} has no real help"
    if not isinstance(command, click.Group):
        assert "Example" in result.output, f"`newswatch {' '.join(path)} --help` shows no example"


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """A database holding one crawl of the sample site, and its config."""
    folder = tmp_path_factory.mktemp("cli")
    url = f"sqlite:///{folder / 'newswatch.db'}"
    with NewsSite() as site:
        config = write_config(folder / "newswatch.toml", site.sources())
        result = newswatch(config, url, "crawl")
    assert result.returncode == 0, result.stderr
    return config, url


def run(crawled, *args):
    config, url = crawled
    result = CliRunner().invoke(cli, ["--config", str(config), "--database", url, *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_articles_lists_newest_first_and_filters(crawled):
    german = run(crawled, "articles", "--lang", "de")
    assert "tagesschau" in german and "le-soir" not in german
    assert "Aktionsplan" in german
    searched = run(crawled, "articles", "--text", "Mocro-Maffia")
    assert "Mocro-Maffia" in searched
    assert "copy of #" in run(crawled, "articles")
    assert "copy of #" not in run(crawled, "articles", "--collapse")
    early = run(crawled, "articles", "--until", "2026-11-05", "--source", "le-soir")
    assert "Quintin et Verlinden" in early and "Coup de filet" not in early


def test_articles_text_is_a_search_in_the_rule_language(crawled):
    # a substring would not find "Mocro-Maffia" written joined; the rule language does
    joined = run(crawled, "articles", "--text", "mocromaffia")
    assert "Mocro-Maffia" in joined
    german = run(crawled, "articles", "--text", "mocromaffia lang:de")
    assert "tagesschau" in german and "le-soir" not in german and "le-soir" in joined
    assert "No stored articles match." in run(crawled, "articles", "--text", "!!!")
    config, url = crawled
    broken = CliRunner().invoke(
        cli, ["--config", str(config), "--database", url, "articles", "--text", "(mocro"]
    )
    assert broken.exit_code == 2 and "--text" in broken.output


def test_show_prints_the_article_and_its_story(crawled):
    _config, url = crawled
    (article_id, title) = rows(
        url, "SELECT id, title FROM articles WHERE duplicate_of_id IS NOT NULL"
    )[0]
    output = run(crawled, "show", str(article_id))
    assert title in output
    assert "2 copies" in output and "also #" in output


def test_show_unknown_id_is_a_clear_error(crawled):
    config, url = crawled
    result = CliRunner().invoke(cli, ["--config", str(config), "--database", url, "show", "9999"])
    assert result.exit_code == 1
    assert "no article with id 9999" in result.output


def test_export_jsonl_and_csv_carry_every_article(crawled):
    _config, url = crawled
    (count,) = rows(url, "SELECT count(*) FROM articles")[0]
    lines = run(crawled, "export", "--format", "jsonl").splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == count
    assert {"url", "title", "text", "language", "published_at", "source"} <= set(records[0])
    table = list(csv.DictReader(io.StringIO(run(crawled, "export", "--format", "csv"))))
    assert len(table) == count
    assert any("ü" in r["text"] or "é" in r["text"] for r in table)


def test_sources_shows_last_run_and_health(crawled):
    output = run(crawled, "sources")
    for name in ("brussels-times", "le-soir", "hln", "tagesschau", "le360", "hespress"):
        assert name in output
    assert "ok" in output


def test_unknown_source_is_named(crawled):
    config, url = crawled
    result = CliRunner().invoke(
        cli, ["--config", str(config), "--database", url, "crawl", "--source", "nope"]
    )
    assert result.exit_code == 2
    assert "no source named 'nope'" in result.output


def test_csv_cells_that_a_spreadsheet_would_run_are_made_inert():
    from newswatch.commands.export import csv_safe

    safe = csv_safe({"title": '=HYPERLINK("http://x")', "text": "-2 dead", "id": 3, "lead": "ok"})
    assert safe == {"title": '\'=HYPERLINK("http://x")', "text": "'-2 dead", "id": 3, "lead": "ok"}
