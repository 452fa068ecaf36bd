"""Pure article fingerprints for story grouping: MinHash band keys, evidence, outbound links."""

from __future__ import annotations

from collections.abc import Iterable

import lxml.html
from lxml import etree

from crawler.dedupe import text_band_keys
from crawler.evidence import evidence
from crawler.extract import DEFAULT_OPTIONS, ExtractOptions, decode_html, extract_article
from crawler.items import ArticlePage, Extracted, Fingerprint
from crawler.urls import absolute_url, same_site

MAX_LINKS = 30


def fingerprint(text: str, links: Iterable[str] = ()) -> Fingerprint:
    """The fingerprint of an article's text and the links it cites."""
    found = evidence(text, links)
    return Fingerprint(text_band_keys(text), tuple(found.items()))


def outbound_links(html: str, url: str) -> tuple[str, ...]:
    """Links inside paragraphs to other sites: the sources an article cites.

    Only links in running text count; navigation, footers and share buttons link every
    article of a site to the same places and would make unrelated stories look alike.
    """
    try:
        tree = lxml.html.fromstring(html)
    except (ValueError, etree.ParserError):
        return ()
    found: dict[str, None] = {}
    for anchor in tree.iterfind(".//p//a[@href]"):
        try:
            link = absolute_url(url, anchor.get("href"))
        except ValueError:  # a malformed address (bad port, broken IPv6 literal)
            continue
        if link and link.startswith(("http://", "https://")) and not same_site(link, url):
            found.setdefault(link)
            if len(found) >= MAX_LINKS:
                break
    return tuple(found)


def extract_and_fingerprint(
    page: ArticlePage, options: ExtractOptions = DEFAULT_OPTIONS
) -> tuple[Extracted, Fingerprint]:
    """Extract one fetched page and fingerprint it: the CPU work of an extraction worker.

    Module-level and in a module that does not import Scrapy, so an extraction worker
    process stays small; the HTML is decoded once for both.
    """
    html = decode_html(page.body, page.declared_encoding)
    extracted = extract_article(
        html, page.final_url, page.hints, language_hint=page.language_hint, options=options
    )
    return extracted, fingerprint(extracted.text, outbound_links(html, page.final_url))
