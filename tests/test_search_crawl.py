"""News-search sources end to end: provider stand-ins lead to outlet pages, which are stored.

One loopback server, reached as an HTTP proxy, stands in for Google News, Bing, GDELT and
the outlets under their own host names (http, as a proxy sees them), so the providers'
hosts, download slots and wrapper pages are the real ones.
"""

from __future__ import annotations

import base64
import contextlib
import json
from urllib.parse import quote, urlsplit

from newswatch.demo.server import Request, Response, text
from tests.crawl_helpers import newswatch, rows, serving, through_proxy, write_config

PARAGRAPH = (
    "La coopération policière entre la Belgique et le Maroc s'intensifie : les deux pays "
    "échangent désormais des officiers de liaison et des données sur les réseaux de trafic "
    "de cocaïne qui transitent par le port d'Anvers. "
)
LE_SOIR = "http://www.lesoir.test"
VRT = "http://www.vrt.test"
HESPRESS = "http://www.hespress.test"
DATE = "Mon, 03 Mar 2025 08:15:00 GMT"


def page(number: int) -> str:
    title = f"Coopération sécuritaire, épisode {number}"
    body = "".join(f"<p>{PARAGRAPH} Paragraphe {n} de l'épisode {number}.</p>" for n in range(4))
    return (
        f"<!doctype html><html lang='fr'><head><meta charset='utf-8'><title>{title}</title>"
        f"</head><body><article><h1>{title}</h1>{body}</article></body></html>"
    )


def old_google_id(url: str) -> str:
    """An older Google News article id, which carries the outlet's address itself."""
    encoded = url.encode()
    message = b"\x08\x13\x22" + bytes([len(encoded)]) + encoded + b"\xd2\x01\x00"
    return base64.urlsafe_b64encode(message).decode().rstrip("=")


def google_rss() -> str:
    items = [
        # follows Google's redirect to the outlet
        ("http://news.google.com/rss/articles/CBMiRedirects?oc=5", "Épisode un", "Le Soir"),
        # stays on Google's own page: not the outlet's, so reported, not stored
        ("http://news.google.com/rss/articles/CBMiStaysHere?oc=5", "Épisode perdu", "La Libre"),
        # an older id: read without asking Google
        (
            f"http://news.google.com/rss/articles/{old_google_id(f'{LE_SOIR}/articles/2/')}",
            "Épisode deux",
            "Le Soir",
        ),
    ]
    body = "".join(
        f"<item><title>{title} - {outlet}</title><link>{link}</link><pubDate>{DATE}</pubDate>"
        f'<source url="{LE_SOIR}">{outlet}</source></item>'
        for link, title, outlet in items
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Maroc - Google Actualités</title><language>fr</language>{body}"
        "</channel></rss>"
    )


def bing_rss() -> str:
    target = quote(f"{VRT}/articles/3/", safe="").lower()
    return (
        '<?xml version="1.0" encoding="utf-8" ?><rss version="2.0" '
        'xmlns:News="https://www.bing.com:443/news/search?q=Marokko&amp;format=rss">'
        "<channel><title>Marokko - BingNews</title><item><title>Politie en Marokko</title>"
        "<link>http://www.bing.com/news/apiclick.aspx?ref=FexRss&amp;aid=&amp;tid=1"
        f"&amp;url={target}&amp;c=1&amp;mkt=nl-be</link><pubDate>{DATE}</pubDate>"
        "<News:Source>VRT NWS</News:Source></item></channel></rss>"
    )


def gdelt_json() -> str:
    article = {
        "url": f"{HESPRESS}/articles/4/",
        "title": "تعاون أمني بين المغرب وبلجيكا",
        "seendate": "20250303T081500Z",
        "domain": "hespress.test",
        "language": "Arabic",
        "sourcecountry": "Morocco",
    }
    return json.dumps({"articles": [article]}, ensure_ascii=False)


class Internet:
    """The providers and the outlets, by host name, as an HTTP proxy receives them."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    def __call__(self, request: Request) -> Response:
        url = request.target
        self.requests.append(url)
        host, path = urlsplit(url).hostname, urlsplit(url).path
        if path == "/robots.txt":
            return text(404, "none", "text/plain")
        if host == "news.google.com":
            if path == "/rss/search":
                return text(200, google_rss(), "application/rss+xml; charset=utf-8")
            if path == "/refused/rss/search":
                return text(
                    200,
                    "<!doctype html><html><head><title>Before you continue to "
                    "Google</title></head><body>consent</body></html>",
                )
            if path == "/rss/articles/CBMiRedirects":
                return Response(302, b"", {"Location": f"{LE_SOIR}/articles/1/"})
            if path == "/rss/articles/CBMiStaysHere":
                return text(
                    200,
                    "<!doctype html><html><head><title>Google News</title></head>"
                    "<body><c-wiz data-n-a-sg='x'></c-wiz>" + PARAGRAPH * 3 + "</body></html>",
                )
        if host == "www.bing.com":
            if path == "/news/search":
                return text(200, bing_rss(), "application/rss+xml; charset=utf-8")
            if path == "/throttled/news/search":
                return Response(429, b"slow down", {"Retry-After": "3600"})
        if host == "api.gdeltproject.org" and path == "/api/v2/doc/doc":
            return text(200, gdelt_json(), "application/json; charset=utf-8")
        if host in {"www.lesoir.test", "www.vrt.test", "www.hespress.test"} and (
            path.startswith("/articles/")
        ):
            return text(200, page(int(path.split("/")[2])))
        return text(404, "not found")


@contextlib.contextmanager
def internet_served():
    internet = Internet()
    with serving(internet) as base_url:
        yield internet, through_proxy(base_url)


def search(name: str, provider: str, endpoint: str | None = None, **options) -> dict:
    source = {
        "name": name,
        "kind": "search",
        "provider": provider,
        "query": "Maroc Belgique",
        "language": "fr",
        "allow_private_links": True,
        **options,
    }
    if endpoint:
        source["endpoint"] = endpoint
    return source


SOURCES = [
    search("google-search", "google_news", "http://news.google.com/rss/search", region="BE"),
    search("bing-search", "bing_news", "http://www.bing.com/news/search", language="nl"),
    search("gdelt-search", "gdelt", "http://api.gdeltproject.org/api/v2/doc/doc", language="ar"),
    search("bing-throttled", "bing_news", "http://www.bing.com/throttled/news/search"),
    search("google-refused", "google_news", "http://news.google.com/refused/rss/search"),
]


def test_search_results_lead_to_the_outlets_pages(tmp_path, database_url):
    with internet_served() as (internet, env):
        config = write_config(tmp_path / "newswatch.toml", SOURCES, retries=0)
        result = newswatch(config, database_url, "crawl", env=env)

    assert result.returncode == 1, result.stderr  # the refused and throttled ones failed
    assert "Traceback" not in result.stderr
    stored = {
        final_url: (source, link_url)
        for final_url, source, link_url in rows(
            database_url,
            "SELECT a.final_url, s.name, a.link_url FROM articles a "
            "JOIN sources s ON s.id = a.source_id",
        )
    }
    assert set(stored) == {
        f"{LE_SOIR}/articles/1/",
        f"{LE_SOIR}/articles/2/",
        f"{VRT}/articles/3/",
        f"{HESPRESS}/articles/4/",
    }, result.stderr
    # Google's link was requested as published and followed; Bing's and the older Google
    # id were unwrapped, GDELT's is the outlet's own: nothing else was asked of them.
    assert stored[f"{LE_SOIR}/articles/1/"] == (
        "google-search",
        "http://news.google.com/rss/articles/CBMiRedirects?oc=5",
    )
    assert stored[f"{LE_SOIR}/articles/2/"][1] == f"{LE_SOIR}/articles/2/"
    assert stored[f"{VRT}/articles/3/"] == ("bing-search", f"{VRT}/articles/3/")
    assert stored[f"{HESPRESS}/articles/4/"][0] == "gdelt-search"
    assert not [url for url in internet.requests if "apiclick" in url]

    failures = {
        source: (reason, detail, url)
        for url, source, reason, detail in rows(
            database_url,
            "SELECT f.url, s.name, f.reason, f.detail FROM failures f "
            "JOIN sources s ON s.id = f.source_id",
        )
    }
    reason, detail, url = failures["google-search"]
    assert (reason, url) == ("unresolved", "http://news.google.com/rss/articles/CBMiStaysHere?oc=5")
    assert "Épisode perdu" in detail and "La Libre" in detail
    reason, detail, _ = failures["bing-throttled"]
    assert (reason, detail) == ("http", "HTTP 429")
    reason, detail, _ = failures["google-refused"]
    assert reason == "malformed"
    assert "did not answer with RSS: 'Before you continue to Google'" in detail
    assert {"bing-search", "gdelt-search"}.isdisjoint(failures)
    for source in ("bing-throttled", "google-refused"):
        assert any(
            line.startswith(f"{source}: ") or f" {source}: " in line
            for line in result.stderr.splitlines()
        ), result.stderr
