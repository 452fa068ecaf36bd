"""Bing News RSS search: the request address, and its items as links.

Items link through bing.com/news/apiclick.aspx, a click counter whose `url` parameter is
the outlet's address: that address is the link, so nothing is requested from Bing for it.
The outlet's name is in <News:Source> (feedparser: news_source), a thumbnail in <News:Image>.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from crawler.items import FeedHints, Link
from crawler.search import query as syntax
from crawler.search.locales import default_region
from crawler.search.results import (
    clean,
    is_web_address,
    language_of,
    on_host,
    parse_rss,
    plain_text,
    query_parameter,
    when,
)

NAME = "bing_news"
BASE_URL = "https://www.bing.com/news/search"
HOST = "www.bing.com"
RATE_LIMIT = 1.0  # undocumented for the RSS search; as for Google News


def result_url(query: str, language: str | None, region: str | None, base: str) -> str:
    """mkt (a market, e.g. fr-BE) picks the edition; cc alone a country, setlang a language."""
    params = {"q": syntax.join(syntax.tokens(query)), "format": "rss"}
    if language is not None:
        params.update(setlang=language, mkt=f"{language}-{region or default_region(language)}")
    elif region is not None:
        params["cc"] = region
    return f"{base}?{urlencode(params)}"


def read(body: bytes, url: str) -> list[Link]:
    parsed = parse_rss(body, url, "Bing News")
    feed_language = language_of(
        parsed.feed.get("language"), query_parameter(url, "setlang"), query_parameter(url, "mkt")
    )
    links = []
    for entry in parsed.entries:
        link = unwrapped(entry.get("link") or "")
        if link is None:
            continue
        image = entry.get("news_image")
        hints = FeedHints(
            title=clean(entry.get("title")),
            published_at=when(entry.get("published_parsed") or entry.get("updated_parsed")),
            summary=plain_text(entry.get("summary")),
            language=language_of(entry.get("language")) or feed_language,
            image_url=image if is_web_address(image) else None,
            site_name=clean(entry.get("news_source")),
        )
        links.append(Link(link, hints))
    return links


def unwrapped(link: str) -> str | None:
    """The outlet's address of an item link: the `url` parameter of Bing's click counter,
    or the link itself when it is not one; None when neither is a web address."""
    link = link.strip()
    if on_host(link, "bing.com") and urlsplit(link).path.lower().endswith("/apiclick.aspx"):
        target = query_parameter(link, "url")
        if target and is_web_address(target):
            return target.strip()
    return link if is_web_address(link) else None


def wrapped(url: str) -> bool:
    return on_host(url, "bing.com")
