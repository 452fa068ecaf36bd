"""A source given as its homepage: its feeds and sitemaps are found, remembered, re-found."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

from newswatch.demo.server import Request, Response, text
from tests.crawl_helpers import newswatch, rows, serving, write_config

PARAGRAPH = (
    "La coopération policière entre la Belgique et le Maroc s'intensifie : les deux pays "
    "échangent désormais des officiers de liaison et des données sur les réseaux de trafic "
    "de cocaïne qui transitent par le port d'Anvers. "
)


def page(number: int) -> str:
    title = f"Coopération sécuritaire, épisode {number}"
    body = "".join(f"<p>{PARAGRAPH} Paragraphe {n} de l'épisode {number}.</p>" for n in range(4))
    return (
        f"<!doctype html><html lang='fr'><head><meta charset='utf-8'><title>{title}</title>"
        f"</head><body><article><h1>{title}</h1>{body}</article></body></html>"
    )


class Outlet:
    """A homepage advertising its feed (latest 3 articles); robots.txt names its sitemap (all)."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.gone: set[str] = set()  # paths that answer 404 from now on
        self.base = ""

    def __call__(self, request: Request) -> Response:
        self.requests.append(request.path)
        if request.path in self.gone:
            return text(404, "gone")
        when = datetime(2026, 12, 1, tzinfo=UTC)
        if request.path == "/":
            return text(
                200,
                "<!doctype html><html lang='fr'><head><title>Le Quotidien</title>"
                "<link rel='alternate' type='application/rss+xml' href='/feed.xml'>"
                "</head><body><h1>Le Quotidien</h1></body></html>",
            )
        if request.path == "/robots.txt":
            return text(
                200,
                f"User-agent: *\nAllow: /\nSitemap: {self.base}/news-sitemap.xml\n",
                "text/plain",
            )
        if request.path == "/feed.xml":
            items = "".join(
                f"<item><title>t{n}</title><link>{self.base}/articles/{n}/</link></item>"
                for n in (6, 5, 4)
            )
            return text(
                200,
                f"<?xml version='1.0'?><rss version='2.0'><channel><title>Q"
                f"</title>{items}</channel></rss>",
                "application/rss+xml",
            )
        if request.path == "/news-sitemap.xml":
            urls = "".join(
                f"<url><loc>{self.base}/articles/{n}/</loc>"
                f"<lastmod>{(when - timedelta(hours=n)).isoformat()}</lastmod></url>"
                for n in range(1, 7)
            )
            return text(
                200,
                "<?xml version='1.0'?><urlset xmlns="
                f"'http://www.sitemaps.org/schemas/sitemap/0.9'>{urls}</urlset>",
                "application/xml",
            )
        if request.path.startswith("/articles/") and request.path.endswith("/"):
            return text(200, page(int(request.path.split("/")[2])))
        return text(404, "not found")

    def hits(self, path: str) -> int:
        return self.requests.count(path)


@contextlib.contextmanager
def outlet_served():
    outlet = Outlet()
    with serving(outlet) as outlet.base:
        yield outlet


def test_a_site_is_discovered_on_its_first_run_and_its_endpoints_remembered(tmp_path, database_url):
    with outlet_served() as outlet:
        source = {"name": "quotidien", "kind": "site", "url": f"{outlet.base}/"}
        config = write_config(tmp_path / "newswatch.toml", [source])
        first = newswatch(config, database_url, "crawl")
        assert first.returncode == 0, first.stderr
        # the feed has the latest three, the sitemap all six: the first run stores all
        stored = rows(database_url, "SELECT link_url FROM articles")
        assert sorted(url for (url,) in stored) == [
            f"{outlet.base}/articles/{n}/" for n in range(1, 7)
        ]
        found = rows(database_url, "SELECT url, kind, how FROM site_endpoints ORDER BY kind")
        assert [(url, kind) for url, kind, _ in found] == [
            (f"{outlet.base}/feed.xml", "feed"),
            (f"{outlet.base}/news-sitemap.xml", "sitemap"),
        ]
        ways = rows(database_url, "SELECT way, count(*) FROM link_sightings GROUP BY way")
        assert sorted(ways) == [("feed", 3), ("sitemap", 6)]

        # discovery judged each endpoint before choosing it: read twice on the first run
        feeds, sitemaps = outlet.hits("/feed.xml"), outlet.hits("/news-sitemap.xml")
        second = newswatch(config, database_url, "crawl")
        assert second.returncode == 0, second.stderr
        assert outlet.hits("/") == 1, "the homepage was read again though its feeds work"
        assert (outlet.hits("/feed.xml"), outlet.hits("/news-sitemap.xml")) == (
            feeds + 1,
            sitemaps + 1,
        )

        # Both endpoints disappear: after three failed runs they are forgotten, and the
        # next run reads the homepage again.
        outlet.gone |= {"/feed.xml", "/news-sitemap.xml"}
        for _ in range(3):
            assert newswatch(config, database_url, "crawl").returncode == 3  # every source failed
        assert rows(database_url, "SELECT count(*) FROM site_endpoints") == [(0,)]
        assert outlet.hits("/") == 1
        again = newswatch(config, database_url, "crawl")
        assert again.returncode == 3, again.stderr
        assert outlet.hits("/") == 2
        assert "no feed or sitemap found" in again.stderr
