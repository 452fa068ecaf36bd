"""Delay from publication to webhook with `newswatch run` polling 50 loopback RSS sources.

Starts a loopback site of N RSS sources (3 articles each) and a webhook receiver, runs the
service against them with a fixed poll interval, waits for the first crawl, then publishes
articles at random moments into random sources. Prints the delay from publication to
webhook receipt (p50, p95, max), the requests spent per new article, and the share of
requests for unchanged feeds that were answered 304. Prints figures; asserts nothing.

    python bench/latency.py            # 50 sources, 60 s interval, 40 articles over 10 min
    python bench/latency.py --quick    # 50 sources, 10 s interval, 20 articles over 1 min
    python bench/latency.py --push     # and again with a loopback WebSub hub, side by side

With --push the second run's feeds advertise a hub (tests/websub_hub.py, after the W3C
Recommendation); the service subscribes, and each publication is pushed to it through the
hub, while it keeps polling at the same interval.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.loopback_feeds import FeedSite, service_config
from tests.websub_hub import Hub

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


class PushFeedSite(FeedSite):
    """The same sources, each feed advertising the loopback hub (rel=hub) and itself (rel=self)."""

    hub_url = ""

    def feed_body(self, name: str) -> bytes:
        with self.lock:
            return self._rss(self.feeds[name], self.servers[name].base_url).encode()

    def _rss(self, feed, base: str) -> str:
        links = (
            f'<atom:link rel="hub" href="{escape(self.hub_url)}"/>'
            f'<atom:link rel="self" href="{base}/{feed.name}/rss.xml"/>'
        )
        return (
            super()
            ._rss(feed, base)
            .replace(
                '<rss version="2.0">',
                '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">',
            )
            .replace("<channel>", "<channel>" + links, 1)
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_config(
    path: Path,
    site: FeedSite,
    hook: str,
    interval: float,
    workers: int,
    callback_port: int | None = None,
) -> None:
    lines = [
        *service_config(interval, workers),
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
    if callback_port:
        lines += [
            "",
            "[service.websub]",
            f'callback_url = "http://127.0.0.1:{callback_port}/websub/"',
            f'listen = "127.0.0.1:{callback_port}"',
        ]
    for source in site.sources():
        if callback_port:  # the hub is on 127.0.0.1, not on the source's own address
            source["allow_private_links"] = True
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
        "--push",
        action="store_true",
        help="run the scenario twice: polling alone, then with a loopback WebSub hub",
    )
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
    runs = {"polling": scenario(args, interval, articles, window, push=False)}
    if args.push:
        runs["push + polling"] = scenario(args, interval, articles, window, push=True)
    for name, result in runs.items():
        print(f"\n== {name}")
        report(*result)
    if args.push:
        compare(runs, interval)


def scenario(args, interval: float, articles: int, window: float, *, push: bool) -> tuple:
    """One run of the service against a fresh site: what `report` needs."""
    site, receiver = (PushFeedSite if push else FeedSite)(args.sources), Receiver()
    hub = Hub().start() if push else None
    with tempfile.TemporaryDirectory(prefix="newswatch-latency-") as scratch:
        config, database = Path(scratch) / "newswatch.toml", Path(scratch) / "bench.db"
        callback = free_port() if hub else None
        write_config(config, site, receiver.url, interval, args.workers, callback)
        if hub:
            site.hub_url = hub.url
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
            if hub:
                log.info("waiting for %d subscriptions at the hub", args.sources)
                hub.wait_for(lambda events: len(hub.verified()) >= args.sources, timeout=300)
            time.sleep(interval)  # let the first round of alerts and polls settle
            start = len(site.log)
            rng = random.Random(7)
            moments = sorted(rng.uniform(0, window) for _ in range(articles))
            published: dict[str, float] = {}
            began = time.monotonic()
            log.info(
                "publishing %d articles over %.0f s, polling every %.0f s%s",
                articles,
                window,
                interval,
                ", pushing through the hub" if hub else "",
            )
            for moment in moments:
                time.sleep(max(0.0, began + moment - time.monotonic()))
                feed = rng.choice(list(site.feeds))
                path = site.publish(feed, WORD)
                published[site.url(path)] = time.time()
                if hub:  # the publisher pings the hub; the hub sends the feed to subscribers
                    topic = site.url(f"/{feed}/rss.xml")
                    hub.publish(topic, site.feed_body(feed))
            receiver.wait_for(articles, timeout=3 * interval + 60)
            end = len(site.log)
        finally:
            service.send_signal(signal.SIGTERM)
            code = service.wait(timeout=120)
            site.close()
            if hub:
                hub.stop()
    return site, receiver, published, site.log[start:end], interval, code


def delays_of(receiver, published) -> list[float]:
    return [receiver.first[url] - at for url, at in published.items() if url in receiver.first]


def compare(runs: dict[str, tuple], interval: float) -> None:
    print(f"\n== publication → webhook, poll interval {interval:g} s")
    print(f"{'':16} {'delivered':>10} {'p50':>8} {'p95':>8} {'max':>8}")
    for name, (_, receiver, published, *_rest) in runs.items():
        got = delays_of(receiver, published)
        if not got:
            print(f"{name:16} {0:>6}/{len(published):<3}")
            continue
        print(
            f"{name:16} {len(got):>6}/{len(published):<3} {statistics.median(got):>7.1f}s "
            f"{percentile(got, 0.95):>7.1f}s {max(got):>7.1f}s"
        )


def report(site, receiver, published, served, interval, code) -> None:
    delays = delays_of(receiver, published)
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
