"""End to end: four outlets carry one event (three wire copies, one German report) → one story,
four members, one alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from urllib.parse import urlsplit

import pytest

from newswatch.demo.server import Request, Response, serve, text
from tests.crawl_helpers import newswatch, rows, write_config
from tests.test_storage_stories import GERMAN, WIRE

CLOSING = (
    "Le parquet fédéral a salué une coopération exemplaire avec les autorités marocaines. "
    "Aucune autre information n'a été communiquée afin de ne pas compromettre la suite."
)
BOILERPLATE = "Lire aussi : la sécurité des ports sous la loupe après des saisies record."
# outlet → (language, headline, paragraphs, query string its feed adds to the link)
OUTLETS = {
    "belga-wire": ("fr", "Coup de filet entre Anvers et Tanger", [*WIRE, CLOSING], ""),
    "le-quotidien": (
        "fr",
        "Coup de filet entre Anvers et Tanger",
        ["(Belga)", *WIRE, CLOSING, BOILERPLATE],
        "?utm_source=rss&utm_medium=feed&utm_campaign=une",
    ),
    "la-gazette": ("fr", "Cocaïne : quatorze arrestations, 900 000 euros saisis", WIRE, ""),
    "die-zeitung": ("de", "Kokain-Netzwerk in Antwerpen und Tanger zerschlagen", [GERMAN], ""),
}
RULES = """
[alerts]
backfill_hours = 48

[channels.console]
kind = "console"

[[rules]]
name = "dgsn"
query = "DGSN"
channels = ["console"]
"""


class StorySite:
    """Each outlet: an RSS feed at /NAME/rss.xml and one article page."""

    def __init__(self) -> None:
        self.published = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
        self.server, self.thread = serve("127.0.0.1", 0, self.respond)
        self.base_url = self.server.base_url

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def respond(self, request: Request) -> Response:
        outlet, _, page = request.path.strip("/").partition("/")
        if outlet not in OUTLETS:
            return text(404, "<h1>Not found</h1>")
        language, title, paragraphs, tracking = OUTLETS[outlet]
        when = self.published + timedelta(minutes=10 * list(OUTLETS).index(outlet))
        link = f"{self.base_url}/{outlet}/story.html"
        if page == "rss.xml":
            feed = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>{outlet}</title><link>{self.base_url}/{outlet}/</link>
<description>{outlet}</description><language>{language}</language>
<item><title>{escape(title)}</title><link>{escape(link + tracking)}</link><guid>{link}</guid>
<pubDate>{format_datetime(when, usegmt=True)}</pubDate></item></channel></rss>"""
            return text(200, feed, "application/rss+xml; charset=utf-8")
        if page == "story.html":
            body = "\n".join(f"<p>{escape(paragraph)}</p>" for paragraph in paragraphs)
            return text(
                200,
                f"""<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">
<title>{escape(title)}</title><link rel="canonical" href="{link}">
<meta property="article:published_time" content="{when.isoformat()}"></head>
<body><nav><a href="/{outlet}/">{outlet}</a></nav><article><h1>{escape(title)}</h1>
{body}</article><footer>© {outlet}</footer></body></html>""",
            )
        return text(404, "<h1>Not found</h1>")


@pytest.fixture
def site():
    found = StorySite()
    yield found
    found.close()


def test_four_outlets_of_one_event_make_one_story_and_one_alert(site, tmp_path, sqlite_url):
    sources = [
        {
            "name": name,
            "kind": "feed",
            "urls": [f"{site.base_url}/{name}/rss.xml"],
            "language": language,
        }
        for name, (language, *_rest) in OUTLETS.items()
    ]
    config = write_config(tmp_path / "newswatch.toml", sources)
    config.write_text(config.read_text(encoding="utf-8") + RULES, encoding="utf-8")

    crawl = newswatch(config, sqlite_url, "crawl")
    assert crawl.returncode == 0, crawl.stderr
    stored = rows(
        sqlite_url,
        "SELECT s.name, a.url, a.story_id, a.duplicate_of_id, a.story_reason "
        "FROM articles a JOIN sources s ON s.id = a.source_id ORDER BY a.id",
    )
    assert len(stored) == 4, stored
    assert {urlsplit(url).query for _, url, *_ in stored} == {""}  # tracking removed
    assert len({story for _, _, story, _, _ in stored}) == 1, stored
    reasons = {name: reason for name, _, _, _, reason in stored}
    copies = [name for name, _, _, duplicate_of, _ in stored if duplicate_of is not None]
    assert len(copies) >= 2, reasons  # two of the three French texts copy the first
    assert any(reason.startswith("shares ") for reason in reasons.values()), reasons

    alerted = newswatch(config, sqlite_url, "alerts", "run")
    assert alerted.returncode == 0, alerted.stderr
    assert rows(sqlite_url, "SELECT rule, story_id FROM alert_matches") == [("dgsn", stored[0][2])]
    assert alerted.stdout.count("=== [newswatch] dgsn:") == 1, alerted.stdout
