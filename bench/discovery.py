"""Source discovery from homepages alone, against hand-written feed-and-sitemap sources.

Serves 24 loopback outlets (newswatch.demo.outlets) that say where their feeds and
sitemaps are in varied ways — <link rel="alternate"> absolute, relative or under a
<base href>, an <a> link, robots.txt `Sitemap:` lines, a sitemap index, only the usual
paths, a dead feed link, an HTML error page posing as a feed, an empty feed, a JSON Feed,
a sitemap nobody links to. Many feeds carry only the newest 10 articles while the
sitemaps carry all 30. Then, in one run:

  discovered    `newswatch discover --write` on the homepages, then one `newswatch crawl`
  hand-written  the outlets' known feeds and sitemaps written by hand, one crawl

and prints the share of the site's articles each stored, per way of advertising and in
all, with the requests discovery made. Prints figures; asserts nothing.

    python bench/discovery.py
    python bench/discovery.py --articles 60 --feed-items 20
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from newswatch.demo.outlets import Outlet, OutletSite

LANGUAGES = ("fr", "nl", "de", "en", "ar", "fr")


def styles(articles: int, feed_items: int) -> list[tuple[str, dict]]:
    """(label, Outlet fields) of each way of advertising; each is used twice."""
    few = {"articles": articles, "feed_items": feed_items}
    return [
        ("rss link + news sitemap in robots", {**few, "sitemap": "news"}),
        (
            "relative atom link + relative robots sitemap",
            {
                **few,
                "feed": "atom",
                "feed_path": "/feeds/all.atom",
                "feed_ad": "relative",
                "sitemap": "plain",
                "sitemap_ad": "robots-relative",
            },
        ),
        (
            "rss under <base href>, no sitemap",
            {"articles": articles, "feed_path": "/news/rss.xml", "feed_ad": "base"},
        ),
        (
            "sitemap index in robots, no feed",
            {
                "articles": articles,
                "feed": None,
                "sitemap": "index",
                "sitemap_path": "/sitemap_index.xml",
            },
        ),
        (
            "nothing advertised, usual paths",
            {
                **few,
                "feed_path": "/rss.xml",
                "feed_ad": "none",
                "sitemap": "plain",
                "sitemap_ad": "none",
            },
        ),
        (
            "JSON Feed link + sitemap at a usual path",
            {
                **few,
                "feed": "json",
                "feed_path": "/feed.json",
                "sitemap": "plain",
                "sitemap_ad": "none",
            },
        ),
        (
            "dead feed link, feed at /feed, news sitemap",
            {
                **few,
                "feed_path": "/feed",
                "feed_ad": "none",
                "extras": ("dead-feed",),
                "sitemap": "news",
                "sitemap_path": "/news-sitemap.xml",
            },
        ),
        (
            "HTML page posing as feed + news sitemap",
            {"articles": articles, "feed": None, "extras": ("error-feed",), "sitemap": "news"},
        ),
        (
            "empty feed + <link rel=sitemap>",
            {
                "articles": articles,
                "feed": None,
                "extras": ("empty-feed",),
                "sitemap": "plain",
                "sitemap_path": "/map.xml",
                "sitemap_ad": "link",
            },
        ),
        (
            "RSS 1.0 in an <a> link, sitemap linked nowhere",
            {
                **few,
                "feed": "rdf",
                "feed_path": "/rss/all.rdf",
                "feed_ad": "anchor",
                "sitemap": "plain",
                "sitemap_path": "/static/map-2026.xml",
                "sitemap_ad": "none",
            },
        ),
        (
            "rss link + comments feed, sitemap linked nowhere",
            {
                **few,
                "extras": ("comments-feed",),
                "sitemap": "plain",
                "sitemap_path": "/static/map-2026.xml",
                "sitemap_ad": "none",
            },
        ),
        (
            "JSON Feed only, sitemap linked nowhere",
            {
                "articles": articles,
                "feed": "json",
                "feed_path": "/feed.json",
                "sitemap": "plain",
                "sitemap_path": "/static/map-2026.xml",
                "sitemap_ad": "none",
            },
        ),
    ]


def write_config(path: Path, sources: list[dict], articles: int) -> Path:
    crawl = {
        "delay": 0,
        "timeout": "10s",
        "retries": 1,
        "extraction_workers": 2,
        "max_articles_per_source": max(articles * 2, 200),
    }
    lines = ["[crawl]", *(f"{key} = {json.dumps(value)}" for key, value in crawl.items())]
    for source in sources:
        lines += ["", "[[sources]]", *(f"{k} = {json.dumps(v)}" for k, v in source.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def newswatch(
    config: Path, database: Path, *args: str
) -> tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "newswatch",
            "--config",
            str(config),
            "--database",
            f"sqlite:///{database}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode not in (0, 1):
        print(result.stderr[-3000:], file=sys.stderr)
    return result, time.perf_counter() - started


def stored(database: Path) -> set[str]:
    with sqlite3.connect(database) as connection:
        return {url for (url,) in connection.execute("SELECT url FROM articles")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=30, help="articles per outlet")
    parser.add_argument("--feed-items", type=int, default=10, help="items in a short feed")
    arguments = parser.parse_args()
    kinds = styles(arguments.articles, arguments.feed_items)
    outlets, label_of = [], {}
    for number in range(2 * len(kinds)):
        label, fields = kinds[number % len(kinds)]
        name = f"outlet{number:02d}"
        outlets.append(Outlet(name, LANGUAGES[number % len(LANGUAGES)], **fields))
        label_of[name] = label

    with (
        tempfile.TemporaryDirectory(prefix="bench-discovery-") as scratch,
        OutletSite(outlets) as site,
    ):
        folder = Path(scratch)
        pages = [site.homepage(outlet.name) for outlet in outlets]
        found_config = write_config(folder / "discovered.toml", [], arguments.articles)
        found_db = folder / "discovered.db"
        discovered, discover_seconds = newswatch(
            found_config, found_db, "discover", "--write", *pages
        )
        discovery_requests = len(site.log)
        _, found_crawl = newswatch(found_config, found_db, "crawl")
        hand_config = write_config(folder / "hand.toml", site.known_sources(), arguments.articles)
        hand_db = folder / "hand.db"
        _, hand_crawl = newswatch(hand_config, hand_db, "crawl")
        written = [line for line in found_config.read_text().splitlines() if line == "[[sources]]"]
        articles = {outlet.name: set(site.article_urls(outlet.name)) for outlet in outlets}
        found_urls, hand_urls = stored(found_db), stored(hand_db)

    total = sum(len(urls) for urls in articles.values())
    by_label: dict[str, Counter] = {}
    for name, urls in articles.items():
        tally = by_label.setdefault(label_of[name], Counter())
        tally.update(site=len(urls), found=len(urls & found_urls), hand=len(urls & hand_urls))
    print(
        f"{len(outlets)} outlets, {total} articles ({arguments.articles} each; short feeds "
        f"carry the newest {arguments.feed_items})\n"
    )
    print(f"{'how the outlet advertises (2 outlets each)':52} {'discovered':>11} {'by hand':>9}")
    for label, tally in by_label.items():
        found, hand = tally["found"] / tally["site"], tally["hand"] / tally["site"]
        print(f"{label:52} {found:>10.0%} {hand:>9.0%}")
    found_all = sum(len(urls & found_urls) for urls in articles.values())
    hand_all = sum(len(urls & hand_urls) for urls in articles.values())
    print(f"\n{'all outlets':52} {found_all / total:>10.0%} {hand_all / total:>9.0%}")
    print(
        f"stored: discovered {found_all}, by hand {hand_all} of {total}"
        f" (ratio {found_all / max(hand_all, 1):.2f})"
    )
    print(
        f"discover: exit {discovered.returncode}, {len(written)} sources written for "
        f"{len(outlets)} sites, {discovery_requests} requests "
        f"({discovery_requests / len(outlets):.1f} per site), {discover_seconds:.1f}s"
    )
    print(f"crawl: discovered sources {found_crawl:.1f}s, hand-written sources {hand_crawl:.1f}s")


if __name__ == "__main__":
    main()
