"""Crawl guards end to end: no requests into private networks, no empty articles stored."""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit

import pytest

from crawler.addresses import is_private
from newswatch.demo.server import Request, Response, serve, text
from tests.crawl_helpers import newswatch, rows, through_proxy, write_config

PARAGRAPH = (
    "<p>Die belgische Bundespolizei und die marokkanische DGST tauschen seit dem Frühjahr "
    "Ermittlungsdaten über Kokainlieferungen aus, die über den Hafen von Antwerpen laufen. "
    "Beide Seiten sprechen von einem Durchbruch in der Zusammenarbeit.</p>"
)


def article(title: str) -> str:
    return (
        f"<!doctype html><html lang='de'><head><meta charset='utf-8'><title>{title}</title>"
        f"</head><body><nav>Start · Politik</nav><article><h1>{title}</h1>{PARAGRAPH * 4}"
        "</article><footer>Impressum</footer></body></html>"
    )


@contextlib.contextmanager
def site(host: str, routes: dict[str, object]):
    """A loopback server answering `routes` (path → Response or callable); logs paths."""
    seen: list[str] = []

    def respond(request: Request) -> Response:
        seen.append(request.path)
        route = routes.get(request.path)
        if callable(route):
            return route(request)
        return route or text(404, "not found")

    server, thread = serve(host, 0, respond)
    try:
        yield server.base_url, seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def rss(links: list[str]) -> Response:
    items = "".join(f"<item><title>t</title><link>{link}</link></item>" for link in links)
    body = (
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>x</title>{items}</channel></rss>"
    )
    return text(200, body, "application/rss+xml")


@pytest.mark.parametrize(
    ("address", "private"),
    [
        ("127.0.0.2", True),
        ("10.1.2.3", True),
        ("192.168.0.1", True),
        ("169.254.169.254", True),
        ("::1", True),
        ("fe80::1", True),
        ("::ffff:10.0.0.1", True),
        ("0.0.0.0", True),
        ("93.184.216.34", False),
        ("2606:4700::1111", False),
    ],
)
def test_private_addresses(address, private):
    assert is_private(address) is private


def test_links_into_private_networks_are_refused_unless_allowed(tmp_path, sqlite_url):
    with site("127.0.0.2", {"/inside.html": text(200, article("Intern"))}) as (inside, hits):
        routes: dict[str, object] = {
            "/ok.html": text(200, article("Aktionsplan unterzeichnet")),
            "/empty.html": text(200, "<html><body><nav>Start</nav><p>Kurz.</p></body></html>"),
            "/hop": Response(302, headers={"Location": f"{inside}/inside.html"}),
        }
        with site("127.0.0.1", routes) as (outside, _):
            routes["/feed.xml"] = rss(
                [
                    f"{outside}/ok.html",
                    f"{outside}/empty.html",
                    f"{inside}/inside.html",
                    f"{outside}/hop",
                ]
            )
            source = {"name": "guarded", "kind": "feed", "url": f"{outside}/feed.xml"}
            config = write_config(tmp_path / "a.toml", [source])
            refused = newswatch(config, sqlite_url, "crawl")
            assert hits == [], "a private address on another host was requested"

            allowed = {**source, "name": "trusted", "allow_private_links": True}
            config = write_config(tmp_path / "b.toml", [allowed])
            trusted = newswatch(config, sqlite_url, "crawl")

    assert refused.returncode == 0, refused.stderr
    failures = {
        (urlsplit(url).path, reason)
        for url, reason in rows(sqlite_url, "SELECT url, reason FROM failures")
    }
    # the direct link and the redirect to it are both refused, and say why
    refusals = rows(sqlite_url, "SELECT url FROM failures WHERE reason = 'private_address'")
    assert sorted(urlsplit(url).path for (url,) in refusals) == ["/inside.html", "/inside.html"]
    assert "is the private address 127.0.0.2" in refused.stderr
    # a page with no article text is a recorded failure, not an empty article
    assert ("/empty.html", "extraction") in failures
    assert "article text too short" in refused.stderr or "no article text" in refused.stderr
    stored = {urlsplit(u).path for (u,) in rows(sqlite_url, "SELECT url FROM articles")}
    assert "/ok.html" in stored and "/empty.html" not in stored

    assert trusted.returncode == 0, trusted.stderr
    assert "/inside.html" in hits
    stored = {urlsplit(u).path for (u,) in rows(sqlite_url, "SELECT url FROM articles")}
    assert "/inside.html" in stored


def sitemap_index(children: list[str]) -> Response:
    entries = "".join(f"<sitemap><loc>{child}</loc></sitemap>" for child in children)
    body = (
        "<?xml version='1.0'?><sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        f"{entries}</sitemapindex>"
    )
    return text(200, body, "application/xml")


def test_child_sitemaps_and_feed_redirects_are_guarded_too(tmp_path, sqlite_url):
    """Only the configured addresses' own host is exempt: not what a sitemap or redirect names."""
    inside_routes = {"/child.xml": rss([]), "/internal-feed.xml": rss([])}
    with site("127.0.0.2", inside_routes) as (inside, hits):
        routes = {
            "/sitemap-index.xml": sitemap_index(
                [f"{inside}/child.xml", "http://169.254.169.254/latest/meta-data/"]
            ),
            "/moved.xml": Response(302, headers={"Location": f"{inside}/internal-feed.xml"}),
        }
        with site("127.0.0.1", routes) as (outside, _):
            sources = [
                {"name": "index", "kind": "sitemap", "url": f"{outside}/sitemap-index.xml"},
                {"name": "moved", "kind": "feed", "url": f"{outside}/moved.xml"},
            ]
            result = newswatch(write_config(tmp_path / "n.toml", sources), sqlite_url, "crawl")

    assert result.returncode == 1, result.stderr  # "moved" failed
    assert hits == [], "a private address was requested (robots.txt included)"
    refused = rows(sqlite_url, "SELECT url FROM failures WHERE reason = 'private_address'")
    assert sorted(url for (url,) in refused) == sorted(
        [
            f"{inside}/child.xml",
            "http://169.254.169.254/latest/meta-data/",
            f"{inside}/internal-feed.xml",
        ]
    )


def test_through_a_proxy_only_hosts_shown_to_be_public_are_fetched(tmp_path, sqlite_url):
    """The proxy would reach names we cannot resolve: those are refused, not waved through."""
    seen: list[str] = []

    def proxy(request: Request) -> Response:
        seen.append(request.target)
        if request.target == "http://feeds.test/feed.xml":
            return rss(["http://intranet.test/secret.html", "http://feeds.test/ok.html"])
        if request.target == "http://feeds.test/ok.html":
            return text(200, article("Aktionsplan unterzeichnet"))
        return text(404, "not found")

    server, thread = serve("127.0.0.1", 0, proxy)
    try:
        source = {"name": "proxied", "kind": "feed", "url": "http://feeds.test/feed.xml"}
        config = write_config(tmp_path / "n.toml", [source])
        result = newswatch(config, sqlite_url, "crawl", env=through_proxy(server.base_url))
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

    assert result.returncode == 0, result.stderr
    # the source's own host goes through the proxy; the unresolvable other host does not
    assert "http://feeds.test/ok.html" in seen
    assert not [target for target in seen if "intranet.test" in target], seen
    (detail,) = rows(sqlite_url, "SELECT detail FROM failures WHERE reason = 'private_address'")
    assert "intranet.test does not resolve here" in detail[0]
