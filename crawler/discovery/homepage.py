"""Pure: what a homepage, its robots.txt and the usual paths offer as feeds and sitemaps."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml import etree

# <link rel="alternate"> types that name a feed, and how people call them.
FEED_TYPES = {
    "application/rss+xml": "RSS",
    "application/atom+xml": "Atom",
    "application/rdf+xml": "RSS 1.0",
    "application/feed+json": "JSON Feed",
}
# Types too vague alone (a WordPress page advertises its REST API as application/json):
# a candidate only when the address says it is a feed.
VAGUE_TYPES = ("application/json", "application/xml", "text/xml")
FEEDISH = re.compile(r"(^|[/._-])(rss|feeds?|atom|rdf)([/._-]|$)", re.I)
USUAL_FEEDS = ("/feed", "/rss", "/rss.xml", "/atom.xml", "/feed.xml", "/index.xml")
USUAL_SITEMAPS = ("/news-sitemap.xml", "/sitemap.xml", "/sitemap_index.xml")
MAX_PAGE_LINKS = 5  # <a> links to feeds tried when no <link> advertises one
COMMENTS = re.compile(r"comment|kommentar|reacties|reactions|تعليق", re.I)

# Languages as pages name them in three letters or in words, for the commonest of them.
_LANGUAGES = {
    "eng": "en",
    "english": "en",
    "fra": "fr",
    "fre": "fr",
    "french": "fr",
    "français": "fr",
    "francais": "fr",
    "deu": "de",
    "ger": "de",
    "german": "de",
    "deutsch": "de",
    "nld": "nl",
    "dut": "nl",
    "dutch": "nl",
    "nederlands": "nl",
    "ara": "ar",
    "arabic": "ar",
    "عربي": "ar",
    "العربية": "ar",
    "spa": "es",
    "spanish": "es",
    "español": "es",
    "ita": "it",
    "italian": "it",
    "por": "pt",
    "portuguese": "pt",
    "tur": "tr",
    "turkish": "tr",
}


@dataclass(frozen=True)
class Candidate:
    """An address that may be a feed or a sitemap of the site, and why it is one."""

    url: str
    kind: str  # "feed" | "sitemap": what it is expected to be (site.py adds its own two steps)
    how: str  # for people: 'link rel="alternate" (application/rss+xml)', 'usual path /feed'
    title: str | None = None  # the title the page gave the link ("Comments Feed")
    via: str | None = None  # the sitemap index that lists it, for a child sitemap

    @property
    def comments(self) -> bool:
        """A feed of readers' comments rather than of articles, by its address or title."""
        return bool(COMMENTS.search(urlsplit(self.url).path) or COMMENTS.search(self.title or ""))


def advertised(html: str, url: str) -> list[Candidate]:
    """Feeds and sitemaps the page at `url` names in <link> (or, naming none, in <a>)."""
    root = _parse(html)
    if root is None:
        return []
    base = url
    for element in root.iter("base"):
        if element.get("href"):
            base = urljoin(url, element.get("href").strip())
            break
    found: dict[str, Candidate] = {}
    for element in root.iter("link"):
        rel = (element.get("rel") or "").lower().split()
        href = _address(base, element.get("href"))
        kind_type = (element.get("type") or "").split(";")[0].strip().lower()
        title = _words(element.get("title"))
        if href is None or href in found:
            continue
        if "alternate" in rel and (
            kind_type in FEED_TYPES or (kind_type in VAGUE_TYPES and FEEDISH.search(href))
        ):
            how = f'link rel="alternate" ({kind_type})'
            found[href] = Candidate(href, "feed", how, title)
        elif "sitemap" in rel:
            found[href] = Candidate(href, "sitemap", 'link rel="sitemap"', title)
    if not any(candidate.kind == "feed" for candidate in found.values()):
        for candidate in _page_links(root, base, url):
            found.setdefault(candidate.url, candidate)
    return list(found.values())


def robots_sitemaps(robots_txt: str, url: str) -> list[Candidate]:
    """The `Sitemap:` lines of a robots.txt read from `url` (relative ones resolved)."""
    found: dict[str, Candidate] = {}
    for line in robots_txt.splitlines():
        field, _, value = line.split("#", 1)[0].partition(":")
        if field.strip().lower() != "sitemap":
            continue
        href = _address(url, value)
        if href and href not in found:
            found[href] = Candidate(href, "sitemap", "robots.txt Sitemap:")
    return list(found.values())


def usual_paths(url: str, *, feeds: bool, sitemaps: bool) -> list[Candidate]:
    """Where sites commonly keep their feed and sitemaps, at the root of `url`'s site."""
    paths = [
        *(("feed", p) for p in USUAL_FEEDS if feeds),
        *(("sitemap", p) for p in USUAL_SITEMAPS if sitemaps),
    ]
    return [Candidate(urljoin(url, path), kind, f"usual path {path}") for kind, path in paths]


def page_language(html: str) -> str | None:
    """The page's language as an ISO 639-1 code: <html lang>, else what a <meta> says."""
    root = _parse(html)
    if root is None:
        return None
    declared = [root.get("lang"), root.get("xml:lang")]  # the HTML parser keeps the prefix
    for meta in root.iter("meta"):
        name = (meta.get("http-equiv") or meta.get("name") or meta.get("property") or "").lower()
        if name in ("content-language", "language", "og:locale", "dc.language"):
            declared.append(meta.get("content"))
    for value in declared:
        code = language_code(value)
        if code:
            return code
    return None


def language_code(value: str | None) -> str | None:
    """ "fr-BE", "fr_BE", "fra" or "French" → "fr"; None when it names no language we know."""
    if not value:
        return None
    words = value.strip().lower()
    if words in _LANGUAGES:
        return _LANGUAGES[words]
    primary = re.split(r"[-_,;\s]", words)[0]
    if re.fullmatch(r"[a-z]{2}", primary):
        return primary
    return _LANGUAGES.get(primary)


def _page_links(root: etree._Element, base: str, url: str) -> list[Candidate]:
    """<a> links on the page's own site whose address says feed, RSS or Atom."""
    host = urlsplit(url).hostname
    found: dict[str, Candidate] = {}
    for element in root.iter("a"):
        href = _address(base, element.get("href"))
        if href and urlsplit(href).hostname == host and FEEDISH.search(urlsplit(href).path):
            text = _words("".join(element.itertext()))
            found.setdefault(href, Candidate(href, "feed", "a link on the page", text))
        if len(found) >= MAX_PAGE_LINKS:
            break
    return list(found.values())


def _parse(html: str) -> etree._Element | None:
    if not html.strip():
        return None
    # Bytes, so an XHTML page's <?xml encoding=...?> declaration is no obstacle.
    parser = etree.HTMLParser(encoding="utf-8", no_network=True)
    try:
        return etree.fromstring(html.encode("utf-8", "replace"), parser)
    except etree.ParserError:
        return None


def _address(base: str, href: str | None) -> str | None:
    """An absolute http(s) address without its fragment, or None."""
    if not href or not href.strip():
        return None
    absolute = urldefrag(urljoin(base, href.strip()))[0]
    return absolute if urlsplit(absolute).scheme in ("http", "https") else None


def _words(text: str | None) -> str | None:
    text = " ".join(text.split()) if text else ""
    return text or None
