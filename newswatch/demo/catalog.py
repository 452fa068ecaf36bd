"""The demo site's outlets and articles: frozen values, loaded from the package's JSON data."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from typing import Any


@dataclass(frozen=True)
class Outlet:
    """One news outlet of the demo site, living under /<name>/."""

    name: str
    title: str  # og:site_name; "(demo)" says the content is not the real outlet's
    language: str
    kind: str  # the source kind in newswatch's config: feed | sitemap | listing
    feed_format: str  # rss2 | atom | rss1 | news-sitemap | listing
    feed_path: str  # the document this outlet serves its links in
    source_path: str  # what the config points at (the sitemap index for sitemap outlets)
    tags: tuple[str, ...]
    tracking: str = ""  # query string appended to the links the outlet's feed publishes


@dataclass(frozen=True)
class Article:
    """One article page; `path` is its canonical path (no query, no fragment)."""

    outlet: str
    path: str
    title: str
    author: str
    published: datetime
    language: str
    paragraphs: tuple[str, ...]

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)

    @property
    def summary(self) -> str:
        """The teaser feeds and listings show: the lead paragraph, cut at a word."""
        lead = self.paragraphs[0] if self.paragraphs else ""
        if len(lead) <= 240:
            return lead
        return lead[:240].rsplit(" ", 1)[0] + " …"


_TOPIC = "be-ma-security"

# fmt: off
OUTLETS: tuple[Outlet, ...] = (
    Outlet(
        "brussels-times", "Brussels Times (demo)", "en", "feed", "rss2",
        "/brussels-times/rss.xml", "/brussels-times/rss.xml", ("be", _TOPIC),
        "utm_source=rss&utm_medium=feed&utm_campaign=brussels-times",
    ),
    Outlet(
        "le-soir", "Le Soir (démo)", "fr", "feed", "atom",
        "/le-soir/atom.xml", "/le-soir/atom.xml", ("be", _TOPIC),
        "utm_source=atom&utm_medium=feed",
    ),
    Outlet(
        "hln", "HLN (demo)", "nl", "feed", "rss1",
        "/hln/rss.rdf", "/hln/rss.rdf", ("be", _TOPIC),
        "utm_source=rss&utm_medium=rdf&utm_campaign=nieuws",
    ),
    Outlet(
        "tagesschau", "tagesschau (Demo)", "de", "sitemap", "news-sitemap",
        "/tagesschau/sitemap-news.xml", "/sitemap-index.xml", ("de", _TOPIC),
    ),
    Outlet(
        "le360", "Le360 (démo)", "fr", "listing", "listing",
        "/le360/", "/le360/", ("ma", _TOPIC),
    ),
    Outlet(
        "hespress", "Hespress (demo)", "ar", "feed", "rss2",
        "/hespress/rss.xml", "/hespress/rss.xml", ("ma", _TOPIC),
        "utm_source=rss&utm_medium=feed&utm_campaign=hespress-ar",
    ),
)

FAULTY = Outlet(
    "faulty", "Faulty Gazette (demo)", "en", "feed", "rss2",
    "/faulty/rss.xml", "/faulty/rss.xml", ("faults",),
    "utm_source=rss&utm_medium=feed",
)
# fmt: on

LISTING_SELECTOR = "h2.teaser a"


def article_path(outlet: str, published: datetime, slug: str, *, private: bool = False) -> str:
    prefix = "/private" if private else ""
    return f"{prefix}/{outlet}/{published:%Y/%m}/{slug}.html"


def slugify(title: str) -> str:
    """ASCII slug of a title; empty for scripts without a Latin transliteration (Arabic)."""
    ascii_title = unicodedata.normalize("NFKD", title.replace("ß", "ss"))
    ascii_title = ascii_title.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title).strip("-")[:80].rstrip("-")


def load_articles(outlets: tuple[Outlet, ...]) -> dict[str, list[Article]]:
    """Each outlet's articles, newest first; the wire story is copied into every outlet it names."""
    by_outlet: dict[str, list[Article]] = {outlet.name: [] for outlet in outlets}
    for outlet in outlets:
        for record in _read_json(f"{outlet.name}.json"):
            by_outlet[outlet.name].append(_article(outlet, record, record["paragraphs"]))
    wire = _read_json("wire.json")
    for copy in wire["copies"]:
        outlet = next((o for o in outlets if o.name == copy["outlet"]), None)
        if outlet is not None:
            by_outlet[outlet.name].append(_article(outlet, copy, wire["paragraphs"]))
    for articles in by_outlet.values():
        articles.sort(key=lambda article: article.published, reverse=True)
    return by_outlet


def _article(outlet: Outlet, record: dict[str, Any], paragraphs: list[str]) -> Article:
    published = datetime.fromisoformat(record["published"])
    return Article(
        outlet=outlet.name,
        path=article_path(
            outlet.name, published, record["slug"], private=record.get("private", False)
        ),
        title=record["title"],
        author=record["author"],
        published=published,
        language=record.get("language", outlet.language),
        paragraphs=tuple(paragraphs),
    )


def _read_json(name: str) -> Any:
    return json.loads((files("newswatch.demo") / "data" / name).read_text(encoding="utf-8"))


def load_labels() -> dict[str, dict[str, Any]]:
    """Boilerplate strings (cookie banner, navigation, byline) per language."""
    return _read_json("labels.json")
