"""Google News RSS search: the request address, and its items as links.

Items link to news.google.com/rss/articles/<id>, not to the outlet. Older ids carry the
outlet's address in the id itself (base64 of a small protobuf message), which is read here
without a request; newer ids carry only a token, and the link is kept: the crawler requests
it, and `wrapped` tells it when the answer is still Google's own page.
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import urlencode, urlsplit

from crawler.items import FeedHints, Link
from crawler.search import query as syntax
from crawler.search.locales import LocaleError, default_region
from crawler.search.results import (
    clean,
    is_web_address,
    language_of,
    on_host,
    parse_rss,
    query_parameter,
    when,
)

NAME = "google_news"
BASE_URL = "https://news.google.com/rss/search"
HOST = "news.google.com"
RATE_LIMIT = 1.0  # undocumented; one request a second is what a reader's browser does
_ARTICLE_ID = re.compile(r"/(?:rss/)?(?:articles|read)/([A-Za-z0-9_-]+)")
_URL_FIELD = 4  # the protobuf field of an older id that holds the outlet's address


def result_url(query: str, language: str | None, region: str | None, base: str) -> str:
    """hl, gl and ceid name the edition: its language and country, e.g. BE:fr."""
    text = syntax.join(syntax.implicit_and(query, "Google News"))
    params = {"q": text}
    if language is None and region is not None:
        raise LocaleError("language", "Google News needs a language with a region")
    if language is not None:
        region = region or default_region(language)
        params.update(hl=language, gl=region, ceid=f"{region}:{language}")
    return f"{base}?{urlencode(params, safe=':')}"  # ceid=BE:fr, as Google writes it


def read(body: bytes, url: str) -> list[Link]:
    parsed = parse_rss(body, url, "Google News")
    language = language_of(parsed.feed.get("language"), query_parameter(url, "hl"))
    links = []
    for entry in parsed.entries:
        link = entry.get("link") or ""
        if not is_web_address(link):
            continue
        outlet = entry.get("source") or {}
        site_name = clean(outlet.get("title"))
        hints = FeedHints(
            title=_without_outlet(clean(entry.get("title")), site_name),
            published_at=when(entry.get("published_parsed") or entry.get("updated_parsed")),
            language=language,
            site_name=site_name,
        )
        links.append(Link(decoded_link(link) or link.strip(), hints))
    return links


def wrapped(url: str) -> bool:
    # google.com as a whole: the consent and "unusual traffic" pages live on other hosts
    return on_host(url, "google.com")


def decoded_link(link: str) -> str | None:
    """The outlet's address carried inside an older Google News article id, if any."""
    if not on_host(link, HOST):
        return None
    match = _ARTICLE_ID.search(urlsplit(link).path)
    if not match:
        return None
    token = match[1]
    try:
        message = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    value = _field(message, _URL_FIELD)
    if value is None:
        return None
    try:
        address = value.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return address if is_web_address(address) else None


def _field(message: bytes, wanted: int) -> bytes | None:
    """The first length-delimited field `wanted` of a protobuf message, or None."""
    position = 0
    while position < len(message):
        key, position = _varint(message, position)
        if key is None:
            return None
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, position = _varint(message, position)
            if value is None:
                return None
        elif wire_type == 2:
            length, position = _varint(message, position)
            if length is None or position + length > len(message):
                return None
            if number == wanted:
                return message[position : position + length]
            position += length
        else:
            return None  # not the simple message an article id is
    return None


def _varint(data: bytes, position: int) -> tuple[int | None, int]:
    value = shift = 0
    while position < len(data) and shift < 64:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
    return None, position


def _without_outlet(title: str | None, site_name: str | None) -> str | None:
    """Google appends " - Outlet" to every title; the outlet is kept in site_name instead."""
    if title and site_name and title.endswith(f" - {site_name}"):
        return title[: -len(site_name) - 3].strip() or title
    return title
