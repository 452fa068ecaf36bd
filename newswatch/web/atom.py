"""Pure Atom 1.0 (RFC 4287) writer: feed and entry values in, UTF-8 XML out.

All text goes out as type="text", so a feed reader shows crawled titles and snippets as
text and never as markup. Entry ids are stable URNs derived from the story id: the same
story keeps its id in every feed, across restarts and page loads, so readers never show
it twice.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Fixed so that ids survive restarts; changing it would make every reader re-show everything.
NAMESPACE = uuid.UUID("5b0e8f3e-2a61-4c1e-9d2b-6f0f4e8d7a10")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Characters XML 1.0 does not allow at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_LANGUAGE = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    updated: datetime
    link: str  # the original article (http(s) only) or, failing that, our story page
    related: str  # our story page
    author: str
    summary: str
    published: datetime | None = None
    language: str | None = None
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    self_url: str
    html_url: str
    entries: tuple[Entry, ...]
    subtitle: str | None = None


def story_entry_id(story_id: int) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'story:{story_id}')}"


def feed_id(key: str) -> str:
    """A stable id for the feed named by `key` (its path and normalised query)."""
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'feed:{key}')}"


def xml_text(value: str | None) -> str:
    return _NOT_XML.sub(" ", value or "")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = xml_text(text)
    return element


def render(feed: Feed) -> bytes:
    # A plain xmlns attribute makes Atom the default namespace without touching
    # ElementTree's process-wide prefix registry.
    root = ET.Element("feed", {"xmlns": ATOM})
    _add(root, "id", feed.id)
    _add(root, "title", feed.title, type="text")
    if feed.subtitle:
        _add(root, "subtitle", feed.subtitle, type="text")
    newest = max((entry.updated for entry in feed.entries), default=EPOCH)
    _add(root, "updated", _stamp(newest))
    _add(root, "link", rel="self", type="application/atom+xml", href=xml_text(feed.self_url))
    _add(root, "link", rel="alternate", type="text/html", href=xml_text(feed.html_url))
    author = _add(root, "author")
    _add(author, "name", "newswatch")
    _add(root, "generator", "newswatch")
    for entry in feed.entries:
        _entry(root, entry)
    ET.indent(root)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(
        root, encoding="utf-8", xml_declaration=False
    )


def _entry(root: ET.Element, entry: Entry) -> None:
    element = _add(root, "entry")
    if entry.language and _LANGUAGE.match(entry.language):
        element.set(XML_LANG, entry.language)
    _add(element, "id", entry.id)
    _add(element, "title", entry.title, type="text")
    _add(element, "updated", _stamp(entry.updated))
    if entry.published:
        _add(element, "published", _stamp(entry.published))
    _add(element, "link", rel="alternate", type="text/html", href=xml_text(entry.link))
    _add(element, "link", rel="related", type="text/html", href=xml_text(entry.related))
    author = _add(element, "author")
    _add(author, "name", entry.author)
    for category in entry.categories:
        _add(element, "category", term=xml_text(category))
    _add(element, "summary", entry.summary, type="text")
