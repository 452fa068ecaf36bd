"""Capture: does a crawl store every link an outlet published, and at what cost in requests?

Serves the strict outlet of newswatch.demo.url_shapes (it answers only the exact spelling
of each published link: trailing slashes, letter case, parameter order, `m.` hosts, AMP,
non-ASCII paths, session ids, tracking junk) with N stories in a feed and a news sitemap,
crawls it with `newswatch crawl` through the outlet (it is an HTTP proxy), and prints links
published, articles stored, requests per stored article, and requests that hit a 404.
The baseline, in the same run: how many stories requesting the canonical key instead of
the published link would have reached. Then the same outlet with a per-run cap, crawled
until nothing is left: runs needed, stored, requests. Prints figures; asserts nothing.

    python bench/capture.py                  # 220 stories, cap 40 for the capped part
    python bench/capture.py --stories 1100 --cap 100
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.urls import canonical_url
from newswatch.demo.server import serve
from newswatch.demo.url_shapes import UrlShapesOutlet, wire_target

FIXED = ("/feed.xml", "/news-sitemap.xml", "/robots.txt")


def write_config(path: Path, outlet: UrlShapesOutlet, cap: int) -> None:
    lines = [
        "[crawl]",
        "delay = 0",
        "autothrottle = false",
        "concurrency = 16",
        "per_domain_concurrency = 8",
        f"max_articles_per_source = {cap}",
        "",
    ]
    for name, kind, url in (
        ("strict-feed", "feed", outlet.feed_url()),
        ("strict-sitemap", "sitemap", outlet.sitemap_url()),
    ):
        lines += [
            "[[sources]]",
            f'name = "{name}"',
            f'kind = "{kind}"',
            f'url = "{url}"',
            "allow_private_links = true",
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")


def crawl(config: Path, database: Path, proxy: str) -> float:
    env = {"PATH": "/usr/bin:/bin", "http_proxy": proxy, "HTTP_PROXY": proxy}
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "newswatch",
            "-q",
            "--config",
            str(config),
            "--database",
            f"sqlite:///{database}",
            "crawl",
        ],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def stored(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT count(*) FROM articles").fetchone()[0]


def reached_by_key(outlet: UrlShapesOutlet) -> int:
    """Stories the outlet would have served had the crawler requested the canonical key."""
    reached = 0
    for story in outlet.stories:
        key = canonical_url(story.link)
        host = key.split("/")[2]
        reached += outlet.story_at(host, wire_target(key)) is not None
    return reached


def report(label: str, outlet: UrlShapesOutlet, count: int, runs: int, seconds: float) -> None:
    articles = outlet.article_requests()
    kinds = Counter(target for _, target in outlet.requests if target in FIXED)
    missed = sum(1 for host, target in articles if outlet.story_at(host, target) is None)
    total = len(outlet.requests)
    print(
        f"{label}: {len(outlet.stories)} links published, {count} articles stored "
        f"in {runs} run(s), {seconds:.1f} s"
    )
    print(
        f"    requests: {total} ({len(articles)} articles, {missed} answered 404; "
        f"feed {kinds['/feed.xml']}, sitemap {kinds['/news-sitemap.xml']}, "
        f"robots.txt {kinds['/robots.txt']}); "
        f"{total / max(count, 1):.2f} per stored article, "
        f"{len(articles) / max(count, 1):.2f} article requests per stored article"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=220)
    parser.add_argument("--cap", type=int, default=40, help="per-run cap of the capped part")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="newswatch-capture-") as scratch:
        root = Path(scratch)
        outlet = UrlShapesOutlet(count=args.stories)
        baseline = reached_by_key(outlet)
        print(
            f"baseline: requesting the canonical key would reach {baseline} of "
            f"{len(outlet.stories)} stories ({baseline / len(outlet.stories):.0%})"
        )
        server, thread = serve("127.0.0.1", 0, outlet)
        try:
            write_config(root / "all.toml", outlet, cap=100_000)
            seconds = crawl(root / "all.toml", root / "all.db", server.base_url)
            report("one run", outlet, stored(root / "all.db"), 1, seconds)
        finally:
            server.shutdown()
            server.server_close()
            thread.join()

        outlet = UrlShapesOutlet(count=args.stories)
        server, thread = serve("127.0.0.1", 0, outlet)
        try:
            write_config(root / "capped.toml", outlet, cap=args.cap)
            runs, seconds, count = 0, 0.0, -1
            while count < len(outlet.stories) and runs < 2 * len(outlet.stories) // args.cap + 2:
                seconds += crawl(root / "capped.toml", root / "capped.db", server.base_url)
                runs += 1
                count = stored(root / "capped.db")
            report(f"capped at {args.cap} per run", outlet, count, runs, seconds)
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


if __name__ == "__main__":
    main()
