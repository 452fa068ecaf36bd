"""End to end: the service subscribes to a loopback WebSub hub, and a signed push polls at once.

`newswatch run` runs in its own process, polling only every hour after the first poll: an
article that arrives meanwhile can only have been fetched because of a push. Each step is
awaited: the hub's events, the webhook of the alert the new article fires, the service's
log lines as it writes them.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from crawler.websub import sign
from tests.crawl_helpers import rows
from tests.webhook_receiver import Receiver
from tests.websub_hub import TIMEOUT, Hub

WORD = "Quokkagate"
STOP_TIMEOUT = 120  # seconds for SIGTERM to stop the service; reached only when broken
SECRET = "a shared secret of at least 24 bytes"
WORDS = (
    "harbour council dock union container quay strike ferry customs pilot tug crane berth "
    "cargo vessel tide lock canal bridge warehouse shift season road budget mayor report "
    "figures traffic growth talks staff summer northern access debate month year spring"
).split()


def article_text(slug: str) -> str:
    """Three paragraphs of their own per article: two articles are never copies of one story."""
    pick = random.Random(slug)
    return "\n\n".join(
        " ".join(pick.choice(WORDS) for _ in range(40)).capitalize() + "." for _ in range(3)
    )


class FeedSite:
    """Feeds on loopback that advertise a hub; articles published while a test runs."""

    def __init__(self, hub_url: str, *, in_header: bool = False) -> None:
        self.hub_url = hub_url
        self.in_header = in_header  # advertise the hub in a Link header, not in the feed
        self.articles: dict[str, list[tuple[str, str]]] = {}  # feed path → (slug, title)
        self.requests: list[str] = []
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                with site.lock:
                    site.requests.append(self.path)
                status, headers, body = site.answer(self.path)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def feed_url(self, name: str) -> str:
        self.articles.setdefault(f"/{name}.xml", [])
        return f"{self.base}/{name}.xml"

    def publish(self, feed: str, slug: str, title: str) -> str:
        with self.lock:
            self.articles[f"/{feed}.xml"].append((slug, title))
        return f"{self.base}/a/{slug}"

    def feed(self, path: str) -> bytes:
        url = f"{self.base}{path}"
        with self.lock:
            items = "".join(
                f"<item><title>{title}</title><link>{self.base}/a/{slug}</link></item>"
                for slug, title in self.articles[path]
            )
        links = (
            ""
            if self.in_header
            else f'<atom:link rel="hub" href="{self.hub_url}"/><atom:link rel="self" href="{url}"/>'
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
            f"<title>Harbour news</title><link>{self.base}/</link>{links}{items}"
            "</channel></rss>"
        ).encode()

    def answer(self, path: str) -> tuple[int, dict[str, str], bytes]:
        if path in self.articles:
            headers = {"Content-Type": "application/rss+xml"}
            if self.in_header:
                headers["Link"] = f'<{self.hub_url}>; rel="hub", <{self.base}{path}>; rel="self"'
            return 200, headers, self.feed(path)
        slug = path.removeprefix("/a/")
        titles = [t for items in self.articles.values() for s, t in items if s == slug]
        if not titles:
            return 404, {}, b""
        paragraphs = "".join(f"<p>{p}</p>" for p in article_text(slug).split("\n\n"))
        html = (
            f"<html><head><title>{titles[0]}</title></head><body><article>"
            f"<h1>{titles[0]}</h1>{paragraphs}</article></body></html>"
        )
        return 200, {"Content-Type": "text/html; charset=utf-8"}, html.encode()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class LogLines:
    """The service's log, read line by line as it is written, for a test to wait on a line."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()

    def matching(self, *parts: str) -> list[str]:
        with self.changed:
            return [line for line in self.lines if all(part in line for part in parts)]

    def wait_for(self, *parts: str) -> str:
        with self.changed:
            found = self.changed.wait_for(lambda: self.matching(*parts), TIMEOUT)
            assert found, "\n".join(self.lines[-40:])
            return found[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_config(
    path: Path, sources: list[dict[str, Any]], hook: str, port: int, **websub: Any
) -> Path:
    options = {
        "callback_url": f"http://127.0.0.1:{port}/websub/",
        "listen": f"127.0.0.1:{port}",
        "retry_interval": 0.5,
        **websub,
    }
    lines = [
        "[crawl]",
        "delay = 0",
        'timeout = "5s"',
        "retries = 0",
        "extraction_workers = 0",
        'interval = "1h"',
        "",
        "[service]",
        "workers = 1",
        'min_interval = "1h"',
        'max_interval = "1h"',
        'alerts_interval = "1h"',
        "",
        "[service.websub]",
        *(f"{key} = {json.dumps(value)}" for key, value in options.items()),
        "",
        "[alerts]",
        "backfill_hours = 1000000",
        "",
        "[channels.hook]",
        'kind = "webhook"',
        f'url = "{hook}"',
        'secret_env = "HOOK_SECRET"',
        "",
        "[[rules]]",
        'name = "quokka"',
        f'query = "{WORD}"',
        'channels = ["hook"]',
    ]
    for source in sources:
        lines += ["", "[[sources]]", *(f"{k} = {json.dumps(v)}" for k, v in source.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@contextmanager
def running(config: Path, database_url: str) -> Iterator[LogLines]:
    """`newswatch run` in its own process; its log, line by line."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "newswatch",
            "--config",
            str(config),
            "--database",
            database_url,
            "run",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "HOOK_SECRET": SECRET},
    )
    assert process.stdout is not None
    log = LogLines(process.stdout)
    try:
        log.wait_for("service running")
        yield log
    except BaseException:
        print("\n".join(log.lines[-60:]))  # shown with the failure: what the service said
        raise
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        assert code == 0, "\n".join(log.lines[-40:])


def alerted(receiver: Receiver) -> set[str]:
    with receiver.changed:
        return {
            match["article"]["url"]
            for _, _, body in receiver.acked
            for match in json.loads(body).get("matches", [])
        }


def wait_for_alert(receiver: Receiver, url: str) -> None:
    with receiver.changed:
        arrived = receiver.changed.wait_for(lambda: url in alerted(receiver), TIMEOUT)
    assert arrived, f"no alert for {url}; alerted: {alerted(receiver)}"


def get(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def subscribed(hub: Hub, topic: str, count: int = 1) -> Callable[[list], bool]:
    return lambda events: (
        sum(1 for e in events if e.mode == "subscribe" and e.topic == topic and e.verified) >= count
    )


def test_a_signed_push_polls_the_source_at_once_and_a_forged_one_is_ignored(tmp_path, database_url):
    receiver, port = Receiver(), free_port()
    with Hub() as hub:
        site = FeedSite(hub.url)
        try:
            topic = site.feed_url("harbour")
            site.publish("harbour", "figures", "Harbour figures")
            config = write_config(
                tmp_path / "newswatch.toml",
                [{"name": "harbour", "kind": "feed", "url": topic}],
                receiver.base + "/hook",
                port,
            )
            with running(config, database_url) as log:
                events = hub.wait_for(subscribed(hub, topic))
                request = events[0]
                assert (request.mode, request.topic) == ("subscribe", topic)
                assert request.callback.startswith(f"http://127.0.0.1:{port}/websub/")
                assert request.secret and len(request.secret) >= 32  # its own, random
                assert request.lease == 7 * 86400  # asked for; the hub granted it
                assert request.answer == 200  # the challenge was echoed
                (row,) = rows(
                    database_url,
                    "SELECT state, hub_url, topic_url, secret, lease_expires_at "
                    "FROM websub_subscriptions",
                )
                assert row[:4] == ("active", hub.url, topic, request.secret) and row[4]

                # a verification nobody asked for is refused
                callback = request.callback
                challenge = "hub.mode=subscribe&hub.challenge=x&hub.lease_seconds=60"
                assert get(f"{callback}?{challenge}&hub.topic=http://elsewhere/") == 404
                unknown = f"http://127.0.0.1:{port}/websub/unknown-token"
                assert get(f"{unknown}?{challenge}&hub.topic={topic}") == 404
                assert get(unknown, b"<rss/>", {"X-Hub-Signature": "sha256=00"}) == 410

                new = site.publish("harbour", "quokka", f"{WORD} at the harbour")
                body = site.feed("/harbour.xml")
                # forged, missing and sha1 signatures: answered 2xx, the content ignored
                wrong = sign("not the secret", body)
                sha1 = "sha1=" + sign(request.secret, body).split("=")[1]
                assert hub.publish(topic, body, signature=wrong) == [202]
                assert hub.publish(topic, body, signature="") == [202]
                assert hub.publish(topic, body, signature=sha1) == [202]
                log.wait_for("harbour", "does not match the subscription's secret")
                log.wait_for("harbour", "no X-Hub-Signature")
                log.wait_for("harbour", "method 'sha1' refused")

                assert hub.publish(topic, body) == [202]
                wait_for_alert(receiver, new)
                # A push is logged before it is answered: the forged ones would show first.
                assert len(log.matching("harbour", "pushed by hub", "polling now")) == 1
                # polled twice: at start, and once for the one signed push
                assert len(log.matching("harbour: ok,")) == 2
                assert rows(database_url, f"SELECT count(*) FROM articles WHERE url = '{new}'") == [
                    (1,)
                ]
                assert hub.publish(topic, body, method="sha512") == [202]
                log.wait_for("harbour", "pushed by hub", "polling now")
        finally:
            site.close()
            receiver.close()


def test_a_short_lease_is_renewed_before_it_ends(tmp_path, database_url):
    receiver, port = Receiver(), free_port()
    with Hub(max_lease=2) as hub:
        site = FeedSite(hub.url, in_header=True)  # advertised in the Link header this time
        try:
            topic = site.feed_url("harbour")
            config = write_config(
                tmp_path / "newswatch.toml",
                [{"name": "harbour", "kind": "feed", "url": topic}],
                receiver.base + "/hook",
                port,
            )
            with running(config, database_url):
                events = hub.wait_for(subscribed(hub, topic, 2))
                first, renewal = [e for e in events if e.mode == "subscribe"][:2]
                assert first.lease == renewal.lease == 2
                # the same subscription asked again: same callback, same secret
                assert (renewal.callback, renewal.secret) == (first.callback, first.secret)
                assert hub.active(topic)
                (row,) = rows(database_url, "SELECT state, failures FROM websub_subscriptions")
                assert row == ("active", 0)
        finally:
            site.close()
            receiver.close()


def test_a_hub_that_is_down_is_retried_while_polling_goes_on(tmp_path, database_url):
    receiver, port = Receiver(), free_port()
    hub = Hub().start()
    hub.stop()  # down, on a port it will come back on
    site = FeedSite(hub.url)
    try:
        topic = site.feed_url("harbour")
        first = site.publish("harbour", "first", f"{WORD} before the hub")
        config = write_config(
            tmp_path / "newswatch.toml",
            [{"name": "harbour", "kind": "feed", "url": topic}],
            receiver.base + "/hook",
            port,
        )
        with running(config, database_url) as log:
            line = log.wait_for("harbour", "subscribe at hub", "failed")
            assert hub.url in line and "hub unreachable" in line and "trying again" in line
            # the crawl that found the hub has stored its article (the subscriber is woken
            # after a crawl), with the hub down
            assert rows(database_url, f"SELECT count(*) FROM articles WHERE url = '{first}'") == [
                (1,)
            ]
            (row,) = rows(
                database_url, "SELECT state, failures, last_error FROM websub_subscriptions"
            )
            # failed, or already being asked again: either way the failure is on record
            assert row[0] in ("failed", "requested") and row[1] >= 1 and "unreachable" in row[2]
            hub.start()  # back: the next retry subscribes
            wait_for_alert(receiver, first)  # what polling stored is alerted as ever
            hub.wait_for(subscribed(hub, topic))
            new = site.publish("harbour", "second", f"{WORD} after the hub")
            assert hub.publish(topic, site.feed("/harbour.xml")) == [202]
            wait_for_alert(receiver, new)
    finally:
        hub.stop()
        site.close()
        receiver.close()


def test_a_removed_source_is_unsubscribed_when_the_service_starts(tmp_path, database_url):
    receiver, port = Receiver(), free_port()
    with Hub() as hub:
        site = FeedSite(hub.url)
        try:
            topic = site.feed_url("harbour")
            quiet = site.feed_url("quiet")
            site.hub_url = hub.url
            harbour = {"name": "harbour", "kind": "feed", "url": topic}
            other = {"name": "other", "kind": "feed", "url": quiet}
            path = tmp_path / "newswatch.toml"
            with running(
                write_config(path, [harbour, other], receiver.base + "/hook", port), database_url
            ):
                hub.wait_for(
                    lambda events: subscribed(hub, topic)(events) and subscribed(hub, quiet)(events)
                )
            callback = next(e.callback for e in hub.events if e.topic == topic)
            with running(
                write_config(path, [other], receiver.base + "/hook", port), database_url
            ) as log:
                events = hub.wait_for(
                    lambda events: any(e.mode == "unsubscribe" and e.verified for e in events)
                )
                (left,) = [e for e in events if e.mode == "unsubscribe"]
                assert (left.topic, left.callback) == (topic, callback)
                log.wait_for("unsubscribed at hub")
                assert not hub.active(topic) and hub.active(quiet)
                remaining = rows(database_url, "SELECT topic_url FROM websub_subscriptions")
                assert remaining == [(quiet,)]
        finally:
            site.close()
            receiver.close()


def test_a_hub_on_a_private_address_is_refused_unless_the_source_allows_it(tmp_path, database_url):
    receiver, port = Receiver(), free_port()
    with Hub() as hub:
        # "localhost" is not the host the sources were configured with (127.0.0.1)
        site = FeedSite(hub.url.replace("127.0.0.1", "localhost"))
        try:
            guarded, trusted = site.feed_url("guarded"), site.feed_url("trusted")
            sources = [
                {"name": "guarded", "kind": "feed", "url": guarded},
                {"name": "trusted", "kind": "feed", "url": trusted, "allow_private_links": True},
            ]
            config = write_config(
                tmp_path / "newswatch.toml", sources, receiver.base + "/hook", port
            )
            with running(config, database_url) as log:
                line = log.wait_for("guarded", "subscribe at hub", "failed")
                assert "refused http://localhost:" in line and "private address" in line
                hub.wait_for(lambda events: any(e.topic == trusted for e in events))
                assert all(event.topic != guarded for event in hub.events)
                states = dict(
                    rows(database_url, "SELECT topic_url, state FROM websub_subscriptions")
                )
                assert states[guarded] == "failed"
        finally:
            site.close()
            receiver.close()
