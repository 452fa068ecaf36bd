"""Delay from publication to webhook with `newswatch run` polling 50 loopback RSS sources.

Starts a loopback site of N RSS sources (3 articles each) and a webhook receiver, runs the
service against them with a fixed poll interval, waits for the first crawl, then publishes
articles at random moments into random sources. Prints the delay from publication to
webhook receipt (p50, p95, max), the requests spent per new article, and the share of
requests for unchanged feeds that were answered 304. Prints figures; asserts nothing.

    python bench/latency.py            # 50 sources, 60 s interval, 40 articles over 10 min
    python bench/latency.py --quick    # 50 sources, 10 s interval, 20 articles over 1 min
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.loopback_feeds import FeedSite

log = logging.getLogger("bench.latency")
WORD = "Zanzibarite"  # only in published articles: the rule fires on those alone


class Receiver:
    """Webhook endpoint: when each article URL first arrived, and how many times."""

    def __init__(self) -> None:
        self.first: dict[str, float] = {}
        self.copies: dict[str, int] = {}
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()
                with receiver.changed:
                    for match in body.get("matches", []):
                        url = match["article"]["url"]
                        receiver.first.setdefault(url, time.time())
                        receiver.copies[url] = receiver.copies.get(url, 0) + 1
                    receiver.changed.notify_all()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def wait_for(self, count: int, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: len(self.first) >= count, timeout)


def write_config(path: Path, site: FeedSite, hook: str, interval: float, workers: int) -> None:
    lines = [
        "[crawl]",
        f'interval = "{interval:g}s"',
        "delay = 0",
        "autothrottle = false",
        'timeout = "10s"',
        "retries = 1",
        "extraction_workers = 1",
        "",
        "[service]",
        f"workers = {workers}",
        f'min_interval = "{interval:g}s"',
        f'max_interval = "{interval:g}s"',
        "adaptive = false",
        'alerts_interval = "60s"',
        "",
        "[alerts]",
        "backfill_hours = 1",
        "",
        "[channels.hook]",
        'kind = "webhook"',
        f'url = "{hook}"',
        'secret_env = "BENCH_SECRET"',
        "",
        "[[rules]]",
        'name = "bench"',
        f'query = "{WORD}"',
        'channels = ["hook"]',
    ]
    for source in site.sources():
        lines += ["", "[[sources]]", *(f"{k} = {json.dumps(v)}" for k, v in source.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 s interval, 20 articles, 1 min")
    parser.add_argument("--sources", type=int, default=50)
    parser.add_argument("--interval", type=float, help="poll interval in seconds [60; quick 10]")
    parser.add_argument("--articles", type=int, help="articles published [40; quick 20]")
    parser.add_argument("--window", type=float, help="seconds to publish over [600; quick 60]")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--service-log",
        nargs="*",
        default=["-q"],
        metavar="OPTION",
        help="logging options for the service [-q]; e.g. -v",
    )
    args = parser.parse_args()
    interval = args.interval or (10.0 if args.quick else 60.0)
    articles = args.articles or (20 if args.quick else 40)
    window = args.window or (60.0 if args.quick else 600.0)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")

    site, receiver = FeedSite(args.sources), Receiver()
    with tempfile.TemporaryDirectory(prefix="newswatch-latency-") as scratch:
        config, database = Path(scratch) / "newswatch.toml", Path(scratch) / "bench.db"
        write_config(config, site, receiver.url, interval, args.workers)
        service = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "newswatch",
                *args.service_log,
                "--config",
                str(config),
                "--database",
                f"sqlite:///{database}",
                "run",
            ],
            env={**os.environ, "BENCH_SECRET": "bench-secret-of-some-length"},
        )
        try:
            initial = len(site.pages)
            log.info("%d sources, %d articles; waiting for the first crawl", args.sources, initial)
            deadline = time.monotonic() + 300
            while sum(s.path.endswith(".html") for s in site.log) < initial:
                if time.monotonic() > deadline or service.poll() is not None:
                    raise SystemExit("the first crawl did not finish")
                time.sleep(0.5)
            time.sleep(interval)  # let the first round of alerts and polls settle
            start = len(site.log)
            rng = random.Random(7)
            moments = sorted(rng.uniform(0, window) for _ in range(articles))
            published: dict[str, float] = {}
            began = time.monotonic()
            log.info(
                "publishing %d articles over %.0f s, polling every %.0f s",
                articles,
                window,
                interval,
            )
            for moment in moments:
                time.sleep(max(0.0, began + moment - time.monotonic()))
                path = site.publish(rng.choice(list(site.feeds)), WORD)
                published[site.url(path)] = time.time()
            receiver.wait_for(articles, timeout=3 * interval + 60)
            end = len(site.log)
        finally:
            service.send_signal(signal.SIGTERM)
            code = service.wait(timeout=120)
            site.close()
    report(site, receiver, published, site.log[start:end], interval, code)


def report(site, receiver, published, served, interval, code) -> None:
    delays = [receiver.first[url] - at for url, at in published.items() if url in receiver.first]
    feeds = [s for s in served if s.path.endswith("/rss.xml")]
    unchanged = [s for s in feeds if s.feed_unchanged]
    pages = [s for s in served if s.path.endswith(".html")]
    print(
        f"\npoll interval {interval:g} s, {len(site.feeds)} sources, "
        f"{len(published)} articles published, service exit status {code}"
    )
    print(
        f"delivered: {len(delays)}/{len(published)}; "
        f"repeated: {sum(1 for n in receiver.copies.values() if n > 1)}"
    )
    if delays:
        print(
            f"delay publication → webhook: p50 {statistics.median(delays):.1f} s, "
            f"p95 {percentile(delays, 0.95):.1f} s, max {max(delays):.1f} s "
            f"(p95/interval = {percentile(delays, 0.95) / interval:.2f})"
        )
    print(
        f"requests: {len(served)} in all ({len(feeds)} feeds, {len(pages)} article pages, "
        f"{len(served) - len(feeds) - len(pages)} other) = "
        f"{len(served) / max(len(published), 1):.1f} per new article"
    )
    stages = []  # publication → feed read, → page fetched, → webhook
    for url, at in published.items():
        path = "/" + url.split("/", 3)[3]
        feed = "/" + path.split("/")[1] + "/rss.xml"
        read = next(
            (s.at for s in served if s.path == feed and s.status == 200 and s.at >= at), None
        )
        page = next((s.at for s in served if s.path == path), None)
        if read and page and url in receiver.first:
            stages.append((read - at, page - read, receiver.first[url] - page))
    if stages:
        print(
            "median stages: publication → feed read {:.1f} s, → page fetched {:.1f} s, "
            "→ webhook {:.1f} s".format(*(statistics.median(x) for x in zip(*stages, strict=True)))
        )
    answered = sum(1 for s in unchanged if s.status == 304)
    print(
        f"unchanged feeds: {answered}/{len(unchanged)} answered 304 "
        f"({answered / max(len(unchanged), 1):.0%}); changed feeds fetched: "
        f"{len(feeds) - len(unchanged)}"
    )


if __name__ == "__main__":
    main()
