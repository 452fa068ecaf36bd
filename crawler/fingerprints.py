"""Pure article fingerprints for story grouping: MinHash band keys, evidence, outbound links."""

from __future__ import annotations

from collections.abc import Iterable

import lxml.html
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import DOCTYPE_TAG

from crawler.dedupe import text_band_keys
from crawler.evidence import evidence
from crawler.extract import DEFAULT_OPTIONS, ExtractOptions, decode_html, extract_document
from crawler.items import ArticlePage, Extracted, Fingerprint
from crawler.urls import absolute_url, same_site

MAX_LINKS = 30
# Characters trafilatura.utils.load_html removes before parsing (its INVALID_XML_CHARS)
_FORBIDDEN = tuple(map(chr, [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF]))


def fingerprint(text: str, links: Iterable[str] = ()) -> Fingerprint:
    """The fingerprint of an article's text and the links it cites."""
    found = evidence(text, links)
    return Fingerprint(text_band_keys(text), tuple(found.items()))


def outbound_links(page: str | HtmlElement, url: str) -> tuple[str, ...]:
    """Links inside paragraphs to other sites: the sources an article cites.

    `page` is the HTML, or its tree as lxml.html.fromstring parses it. Only links in
    running text count; navigation, footers and share buttons link every article of a
    site to the same places and would make unrelated stories look alike.
    """
    if isinstance(page, str):
        try:
            page = lxml.html.fromstring(page)
        except (ValueError, etree.ParserError):
            return ()
    found: dict[str, None] = {}
    for anchor in page.iterfind(".//p//a[@href]"):
        try:
            link = absolute_url(url, anchor.get("href"))
        except ValueError:  # a malformed address (bad port, broken IPv6 literal)
            continue
        if link and link.startswith(("http://", "https://")) and not same_site(link, url):
            found.setdefault(link)
            if len(found) >= MAX_LINKS:
                break
    return tuple(found)


def _parsed_as_given(html: str) -> bool:
    """Whether trafilatura's load_html parsed this very text with lxml.html.fromstring, so
    its tree holds the elements lxml.html.fromstring(html) holds (its parser only drops
    comments and processing instructions, which hold none).

    It repairs some pages first (trafilatura.utils.repair_faulty_html: characters XML
    forbids, a DOCTYPE with a slash on the first line, a self-closing <html/>) and parses
    an XML declaration's page as bytes, where lxml.html.fromstring refuses it; such pages
    are rare and get their own parse, so the links found never depend on trafilatura's.
    """
    if html.startswith("<?xml") or any(char in html for char in _FORBIDDEN):
        return False
    first_line = html.partition("\n")[0]
    if "doctype" in html[:50].lower() and DOCTYPE_TAG.match(first_line):
        return False
    return not any("<html" in line and line.endswith("/>") for line in html[:4096].splitlines()[:4])


def page_links(html: str, tree: HtmlElement, url: str) -> tuple[str, ...]:
    """outbound_links of a page, read from the tree extract_document returned for it."""
    # load_html parses the bytes again when the text gives an empty tree: not lxml's reading
    return outbound_links(tree if len(tree) and _parsed_as_given(html) else html, url)


def extract_and_fingerprint(
    page: ArticlePage, options: ExtractOptions = DEFAULT_OPTIONS
) -> tuple[Extracted, Fingerprint]:
    """Extract one fetched page and fingerprint it: the CPU work of an extraction worker.

    Module-level and in a module that does not import Scrapy, so an extraction worker
    process stays small; the HTML is decoded and parsed once for both.
    """
    html = decode_html(page.body, page.declared_encoding)
    extracted, tree = extract_document(
        html, page.final_url, page.hints, language_hint=page.language_hint, options=options
    )
    return extracted, fingerprint(extracted.text, page_links(html, tree, page.final_url))
