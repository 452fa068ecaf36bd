"""Read RSS 0.9x/1.0/2.0 and Atom feeds (through feedparser) into article links."""

from __future__ import annotations

import calendar
import json
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urljoin

import feedparser
from bs4 import BeautifulSoup

from crawler.items import FeedHints, Link
from crawler.websub import link_header


class MalformedFeed(ValueError):
    """The body is not a feed any parser could read an entry from."""


@dataclass(frozen=True)
class FeedReading:
    links: list[Link]
    title: str | None
    warning: str | None  # a recoverable problem worth a log line (e.g. wrong charset)
    hubs: tuple[str, ...] = ()  # WebSub hubs it advertises (rel=hub, header or feed)
    topic: str | None = None  # and the URL to subscribe to there (rel=self)


def read_feed(
    body: bytes, url: str, content_type: str | None = None, link_values: str | None = None
) -> FeedReading:
    """The entries of a feed as links with their metadata; raises MalformedFeed.

    `link_values` is the response's Link header: a hub advertised there counts first.
    """
    if body.lstrip()[:1] == b"{":
        return _with_hubs(_read_json_feed(body, url), link_header(link_values, url))
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False)
    problem = parsed.get("bozo_exception")
    language = _language(parsed.feed.get("language"))
    links = []
    for entry in parsed.entries:
        link = _entry_link(entry, url)
        if link:
            links.append(Link(link, _hints(entry, language)))
    if not links:
        # An empty but well-formed feed is fine; a broken one with nothing usable is not.
        if problem is not None:
            raise MalformedFeed(f"not a readable feed: {_describe(problem)}")
        if not parsed.get("version"):
            raise MalformedFeed("not a feed: no RSS or Atom root element")
    warning = _describe(problem) if problem is not None else None
    advertised = link_header(link_values, url)
    for feed_link in parsed.feed.get("links", []):
        if feed_link.get("rel") in ("hub", "self") and feed_link.get("href"):
            advertised.setdefault(feed_link["rel"], []).append(urljoin(url, feed_link["href"]))
    return _with_hubs(FeedReading(links, parsed.feed.get("title"), warning), advertised)


def _with_hubs(reading: FeedReading, advertised: dict[str, list[str]]) -> FeedReading:
    hubs = tuple(dict.fromkeys(advertised.get("hub", [])))
    topic = advertised.get("self", [None])[0]
    return replace(reading, hubs=hubs, topic=topic) if hubs else reading


def _read_json_feed(body: bytes, url: str) -> FeedReading:
    """JSON Feed 1.0/1.1 (jsonfeed.org), which feedparser does not read."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MalformedFeed(f"not a readable JSON Feed: {error}") from None
    if not isinstance(document, dict) or "jsonfeed.org" not in str(document.get("version")):
        raise MalformedFeed("not a feed: JSON without a jsonfeed.org version")
    language = _language(document.get("language"))
    links = []
    for item in document.get("items") or []:
        href = isinstance(item, dict) and (item.get("url") or item.get("external_url"))
        if not href or not isinstance(href, str):
            continue
        authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
        names = [a.get("name") for a in authors if isinstance(a, dict) and a.get("name")]
        hints = FeedHints(
            title=_clean(item.get("title")),
            author=_clean(", ".join(names)),
            published_at=_iso_date(item.get("date_published") or item.get("date_modified")),
            summary=_clean(item.get("summary")) or _plain_text(item.get("content_html")),
            language=_language(item.get("language")) or language,
            image_url=item.get("image") if isinstance(item.get("image"), str) else None,
        )
        links.append(Link(urljoin(url, href.strip()), hints))
    return FeedReading(links, document.get("title"), None)


def _iso_date(value: object) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _entry_link(entry: feedparser.FeedParserDict, base: str) -> str | None:
    href = entry.get("link")
    if not href:
        for candidate in entry.get("links", []):
            if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                href = candidate["href"]
                break
    if not href:
        # RSS items sometimes carry the article only as a permalink guid.
        guid = entry.get("id", "")
        href = guid if guid.startswith(("http://", "https://")) else None
    return urljoin(base, href.strip()) if href else None


def _hints(entry: feedparser.FeedParserDict, feed_language: str | None) -> FeedHints:
    return FeedHints(
        title=_clean(entry.get("title")),
        author=_clean(entry.get("author")),
        published_at=_when(entry.get("published_parsed") or entry.get("updated_parsed")),
        summary=_plain_text(entry.get("summary")),
        language=_language(entry.get("language")) or feed_language,
        image_url=_image(entry),
    )


def _when(parsed: time.struct_time | None) -> datetime | None:
    # feedparser normalises every date format it knows to a UTC struct_time.
    if parsed is None:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)


def _image(entry: feedparser.FeedParserDict) -> str | None:
    for media in entry.get("media_content", []) + entry.get("media_thumbnail", []):
        if media.get("url"):
            return media["url"]
    for enclosure in entry.get("enclosures", []):
        if enclosure.get("type", "").startswith("image/") and enclosure.get("href"):
            return enclosure["href"]
    return None


def _plain_text(html: str | None) -> str | None:
    if not html:
        return None
    text = BeautifulSoup(html, "html.parser").get_text(" ", strip=True)
    return text or None


def _clean(value: str | None) -> str | None:
    value = " ".join(value.split()) if value else ""
    return value or None


def _language(value: str | None) -> str | None:
    if not value:
        return None
    return value.strip().replace("_", "-").split("-")[0].lower() or None


def _describe(problem: BaseException) -> str:
    name = problem.__class__.__name__
    message = str(problem).strip() or name
    return message if name in message else f"{message} ({name})"
