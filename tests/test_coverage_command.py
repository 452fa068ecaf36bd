"""`newswatch coverage`: the per-outlet tables, the details, JSON for scripts, the filters."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from crawler.storage.engine import open_engine
from newswatch.cli import cli
from tests.crawl_helpers import write_config
from tests.test_coverage import EXPECTED, HOSTILE_KEY, HOSTILE_TITLE, SITE, T0, populate


@pytest.fixture
def newswatch(engine, database_url, tmp_path):
    """Run `newswatch coverage …` over the coverage test data; its output, lines squeezed."""
    populate(engine)
    config = write_config(tmp_path / "newswatch.toml", [])

    def run(*args: str, status: int = 0) -> str:
        result = CliRunner().invoke(
            cli, ["--config", str(config), "--database", database_url, "coverage", *args]
        )
        assert result.exit_code == status, result.output
        return result.output

    return run


def squeezed(output: str) -> list[str]:
    return [" ".join(line.split()) for line in output.splitlines()]


def test_a_table_per_outlet_with_every_number(newswatch):
    lines = squeezed(newswatch())
    start = lines.index("news.example: 12 found, 6 stored, 6 not stored")
    assert lines[start + 1 : start + 13] == [
        "way found only this way",
        "feed 5 1",
        "sitemap 9 4",
        "listing 4 2",
        "search 0 0",
        "not stored because articles",
        "cap 1",
        "extraction 1",
        "http 404 1",
        "not fetched yet 1",
        "robots 1",
        "timeout (retrying) 1",
    ]
    other = lines.index("other.example: 2 found, 1 stored, 1 not stored")
    assert lines[other + 5 : other + 8] == [
        "search 2 2",
        "not stored because articles",
        "http 410 1",
    ]
    assert "127.0.0.1:8080: 1 found, 1 stored, 0 not stored" in lines
    assert lines[-1] == "4 outlets: 16 articles found, 9 stored."
    # counts only: no article is listed without --details
    assert not [line for line in lines if "https://" in line]


def test_details_list_single_way_and_unstored_articles_with_reasons(newswatch):
    output = newswatch("--outlet", "www.news.example", "--details")
    lines = squeezed(output)
    assert lines[0] == "news.example: 12 found, 6 stored, 6 not stored"
    single = lines[lines.index("Found by one way only") + 1 :]
    assert single[:8] == [
        "way url title, or why not stored",
        f"feed {SITE}/a3 {HOSTILE_TITLE}",  # crawled text, printed as it is (not rich markup)
        f"sitemap {SITE}/a11?utm_source=rss not stored: extraction",
        f"sitemap {SITE}/a5?utm_source=rss not stored: http 404",
        f"sitemap {SITE}/a8?utm_source=rss not stored: cap",
        "sitemap https://www.news.example/a4 Only the sitemap, on www.",
        f"listing {HOSTILE_KEY}?utm_source=rss not stored: robots",
        f"listing {SITE}/a9 not stored: not fetched yet",
    ]
    unstored = lines[lines.index("Found but not stored") + 1 :]
    assert unstored[:7] == [
        "reason url detail found by",
        f"cap {SITE}/a8?utm_source=rss sitemap",
        f"extraction {SITE}/a11?utm_source=rss no article text sitemap",
        f"http 404 {SITE}/a5?utm_source=rss HTTP 404 sitemap",
        f"not fetched yet {SITE}/a9 listing",
        f"robots {HOSTILE_KEY}?utm_source=rss forbidden by robots.txt listing",
        f"timeout (retrying) {SITE}/a7?utm_source=rss no complete response in time sitemap, "
        "listing",
    ]
    limited = squeezed(newswatch("--outlet", "news.example", "--details", "-n", "2"))
    assert limited.count("… and 5 more (raise --limit)") == 1
    assert limited.count("… and 4 more (raise --limit)") == 1


def test_json_for_scripts(newswatch):
    document = json.loads(newswatch("--json"))
    assert document["ways"] == ["feed", "sitemap", "listing", "search"]
    assert (document["found"], document["stored"]) == (16, 9)
    first = document["outlets"][0]
    assert {key: first[key] for key in EXPECTED} == EXPECTED
    assert first["not_stored_total"] == 6 and "unstored" not in first

    detailed = json.loads(newswatch("--json", "--details", "--outlet", "news.example"))
    (outlet,) = detailed["outlets"]
    assert detailed["outlet"] == "news.example"
    reasons = {link["key"]: (link["reason"], link["state"]) for link in outlet["unstored"]}
    assert reasons[f"{SITE}/a5"] == ("http 404", "gave_up")
    assert reasons[f"{SITE}/a7"] == ("timeout (retrying)", "retry")
    assert reasons[f"{SITE}/a9"] == ("not fetched yet", None)
    stored = [link for link in outlet["only_one_way"] if link["stored"]]
    assert [(link["title"], link["ways"]) for link in stored] == [
        (HOSTILE_TITLE, ["feed"]),
        ("Only the sitemap, on www.", ["sitemap"]),
    ]
    assert all(isinstance(link["article_id"], int) for link in stored)
    assert outlet["more_only_one_way"] == outlet["more_unstored"] == 0


def test_since_and_outlet_filter(newswatch):
    since = json.loads(
        newswatch("--json", "--since", T0.date().isoformat(), "--outlet", "news.example")
    )
    assert since["since"] == "2026-11-20T00:00:00+00:00"
    (outlet,) = since["outlets"]
    assert (outlet["found"], outlet["stored"], outlet["found_by"]["feed"]) == (11, 5, 4)
    assert newswatch("--since", "2027-01-01") == "No articles found by any way that match.\n"
    assert newswatch("--outlet", "nowhere.example") == "No articles found by any way that match.\n"
    assert "is not a date" in newswatch("--since", "yesterday", status=2)


def test_an_empty_database_says_when_counting_starts(database_url, tmp_path):
    config = write_config(tmp_path / "newswatch.toml", [])
    open_engine(database_url).dispose()  # coverage reads: it creates no database
    result = CliRunner().invoke(
        cli, ["--config", str(config), "--database", database_url, "coverage"]
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"No articles found by any way yet: .*newswatch crawl", result.output)
