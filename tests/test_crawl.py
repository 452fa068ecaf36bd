"""End to end: `newswatch crawl` through real Scrapy against the loopback sample news site."""

from __future__ import annotations

import re
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from newswatch.demo.catalog import OUTLETS
from newswatch.demo.newsroom import Newsroom
from newswatch.demo.site import NewsSite
from tests.crawl_helpers import newswatch, rows, write_config


def public_paths() -> set[str]:
    """Every article the sample outlets publish, minus the one robots.txt forbids."""
    newsroom = Newsroom(OUTLETS)
    paths = {a.path for outlet in OUTLETS for a in newsroom.articles(outlet.name)}
    return {path for path in paths if "/private/" not in path}


@pytest.fixture
def site():
    with NewsSite() as site:
        yield site


# `python -m newswatch`, counting the commits SQLAlchemy sends.
COUNTING_COMMITS = """
import atexit, sys
from sqlalchemy import event
from sqlalchemy.engine import Engine
commits = []
event.listen(Engine, "commit", lambda connection: commits.append(1))
atexit.register(lambda: print(f"commits: {len(commits)}", file=sys.stderr))
sys.argv = ["newswatch", *sys.argv[1:]]
from newswatch.cli import main
main()
"""


def commits_of_crawl(config, database_url) -> int:
    arguments = ["--config", str(config), "--database", database_url, "crawl"]
    done = subprocess.run(
        [sys.executable, "-c", COUNTING_COMMITS, *arguments],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return int(re.findall(r"commits: (\d+)", done.stderr)[-1])


def test_a_crawl_commits_once_per_article_and_a_few_times_per_run(site, tmp_path, database_url):
    config = write_config(tmp_path / "newswatch.toml", site.sources())
    sources = len(site.sources())

    commits = commits_of_crawl(config, database_url)
    stored = len(rows(database_url, "SELECT id FROM articles"))
    failed = len(rows(database_url, "SELECT id FROM failures"))
    assert stored and failed  # robots.txt refuses one link
    # Each article's own commit; a failure's record and its backlog row. Bookkeeping — the
    # runs opened and closed, robots.txt, what the feeds listed, their validators — rides
    # in a few transactions per run: fewer than two per source (it took five).
    assert commits - stored - 2 * failed < 2 * sources

    # Nothing new: every feed answers 304, and the run writes in a few transactions.
    assert commits_of_crawl(config, database_url) < sources


def test_crawl_stores_every_article_once_then_revisits_with_conditional_get(
    site, tmp_path, database_url
):
    config = write_config(tmp_path / "newswatch.toml", site.sources())

    first = newswatch(config, database_url, "crawl")
    assert first.returncode == 0, first.stderr

    stored = rows(database_url, "SELECT url, title, language, duplicate_of_id FROM articles")
    assert {urlsplit(url).path for url, *_ in stored} == public_paths()
    assert len(stored) == len(public_paths())
    # canonical URLs: no tracking parameters or fragments survive
    assert not [url for url, *_ in stored if "?" in url or "#" in url]
    assert {language for _, _, language, _ in stored} == {"en", "fr", "nl", "de", "ar"}
    titles = {title for _, title, _, _ in stored}
    assert any("ü" in title or "ö" in title or "ä" in title for title in titles)
    # the wire story two outlets carry with the same text: the second is a copy
    copies = [row for row in stored if row[3] is not None]
    assert len(copies) == 1
    # one line per source, naming it
    for source in site.sources():
        assert f"INFO    {source['name']}: " in first.stderr
    # robots.txt forbids /private/: never fetched, recorded with its cause
    assert site.hits("/brussels-times/2026/11/private") == 0 or all(
        "/private/" not in path for _, path, _ in site.requests
    )
    assert ("robots",) in rows(database_url, "SELECT reason FROM failures")

    article_hits = sum(1 for _, path, _ in site.requests if path.endswith(".html"))
    second = newswatch(config, database_url, "crawl")
    assert second.returncode == 0, second.stderr
    feeds = [s["urls"][0] for s in site.sources()]
    revisits = [h for _, path, h in site.requests if any(f.endswith(path) for f in feeds)]
    assert any("If-None-Match" in h or "If-Modified-Since" in h for h in revisits)
    # nothing re-fetched, nothing re-stored
    assert sum(1 for _, path, _ in site.requests if path.endswith(".html")) == article_hits
    assert len(rows(database_url, "SELECT id FROM articles")) == len(stored)
    statuses = rows(database_url, "SELECT status FROM crawl_runs ORDER BY id")
    second_run = [status for (status,) in statuses[len(site.sources()) :]]
    assert second_run.count("not_modified") >= 4, second_run


def test_newly_published_article_is_picked_up(site, tmp_path, sqlite_url):
    config = write_config(tmp_path / "newswatch.toml", site.sources())
    assert newswatch(config, sqlite_url, "crawl").returncode == 0
    url = site.publish(
        "le-soir",
        title="La Sûreté de l'État renforce sa coopération avec la DGST",
        body="\n\n".join(["Les services belges et marocains ont signé un protocole. " * 6] * 3),
        language="fr",
        author="Claire Dubois",
    )
    result = newswatch(config, sqlite_url, "crawl", "--source", "le-soir")
    assert result.returncode == 0, result.stderr
    assert "le-soir: ok" in result.stderr and "1 new" in result.stderr
    (title,) = rows(sqlite_url, f"SELECT title FROM articles WHERE url = '{url}'")[0]
    assert title == "La Sûreté de l'État renforce sa coopération avec la DGST"


EXPECTED_FAILURES = {
    # url path → (reason recorded, words the log line must carry)
    "/faulty/2026/11/missing.html": ("http", "HTTP 404"),
    "/faulty/2026/11/slow.html": ("timeout", "no complete response in time"),
    "/faulty/2026/11/huge.html": ("too_large", "exceeds the"),
    "/faulty/loop-a": ("redirect", "too many redirects"),
    "/faulty/2026/11/aktionsplan.html": ("content_type", "not an HTML page (application/pdf"),
    "/faulty/2026/11/bomb.html": ("too_large", "size limit"),
    "/faulty/broken.xml": ("malformed", "not a readable feed"),
    "/faulty/500.xml": ("http", "HTTP 500"),
}


def test_bad_input_is_recorded_with_its_cause_and_the_crawl_goes_on(tmp_path, sqlite_url):
    with NewsSite(faults=True, slow_seconds=30) as site:
        sources = site.sources() + site.fault_sources()
        config = write_config(
            tmp_path / "newswatch.toml", sources, timeout="1s", retries=1, max_page_size="1MB"
        )
        first = newswatch(config, sqlite_url, "crawl")
        stored_before = rows(sqlite_url, "SELECT id, url FROM articles ORDER BY id")

        # a second run over the same faults loses nothing that was stored
        second = newswatch(config, sqlite_url, "crawl")

    assert first.returncode == 1, first.stderr  # some sources failed
    assert "Traceback" not in first.stderr + second.stderr
    failures = {
        urlsplit(url).path: (source, reason, detail)
        for url, source, reason, detail in rows(
            sqlite_url,
            "SELECT f.url, s.name, f.reason, f.detail FROM failures f "
            "JOIN sources s ON s.id = f.source_id",
        )
    }
    for path, (reason, words) in EXPECTED_FAILURES.items():
        assert path in failures, f"no failure recorded for {path}: {sorted(failures)}"
        source, recorded_reason, detail = failures[path]
        assert recorded_reason == reason, (path, failures[path])
        assert words in detail, (path, detail)
        # the log names the source, the address and the cause
        assert any(
            line.startswith(f"{source}: ") or f" {source}: " in line
            for line in first.stderr.splitlines()
            if path in line and words in line
        ), f"no log line for {path} in:\n{first.stderr}"

    stored_paths = {urlsplit(url).path for _, url in stored_before}
    # the rest of the crawl completed: every sample outlet, the good and the flaky
    # (500, then 200 on retry) faulty articles, and the windows-1252 feed's articles
    assert public_paths() <= stored_paths
    assert {"/faulty/2026/11/good.html", "/faulty/2026/11/flaky.html"} <= stored_paths
    assert len([p for p in stored_paths if p.startswith("/faulty/2026/11/") and "-" in p]) >= 3
    titles = {title for (title,) in rows(sqlite_url, "SELECT title FROM articles")}
    assert any("Grenzüberschreitende" in t for t in titles), titles

    assert second.returncode == 1, second.stderr
    assert rows(sqlite_url, "SELECT id, url FROM articles ORDER BY id") == stored_before
    health = dict(rows(sqlite_url, "SELECT name, consecutive_failures FROM sources"))
    assert health["faulty-500"] == 2 and health["faulty-broken"] == 2
    assert health["le-soir"] == 0
