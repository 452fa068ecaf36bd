"""Pure article extraction: page bytes to text, and HTML + URL to an Extracted article."""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType

import charset_normalizer
import lxml.html
import py3langid
from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.settings import Extractor, set_date_params
from trafilatura.utils import load_html

from crawler.bylines import JSON_LD, page_authors
from crawler.items import Extracted, FeedHints
from crawler.urls import absolute_url

logger = logging.getLogger(__name__)


class ExtractionError(ValueError):
    """The page holds no usable article; `reason` says why, for logs and the crawl report."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ExtractOptions:
    """How hard extraction tries; plain values so the options cross a process pool."""

    min_text_chars: int = 200  # shorter texts are teasers, paywalls or index pages
    fast: bool = False  # skip trafilatura's fallback extractors (faster, slightly less recall)
    favor_precision: bool = False  # prefer missing a paragraph over keeping boilerplate


DEFAULT_OPTIONS = ExtractOptions()


_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([-\w.:]+)""", re.I)
# Labels that browsers (WHATWG Encoding) read as a superset; pages rely on the extra characters.
_SUPERSETS = MappingProxyType(
    {
        "ascii": "cp1252",
        "iso8859-1": "cp1252",
        "iso8859-9": "cp1254",
        "iso8859-11": "cp874",
        "tis-620": "cp874",
        "gb2312": "gb18030",
        "gbk": "gb18030",
        "shift_jis": "cp932",
        "euc_kr": "cp949",
    }
)
_PRESCAN_BYTES = 8192  # browsers look at 1024; real pages put the meta tag later
# Symbols that cp1252 shows inside words of Central European text (ł→³, ą→¹, ż→¿, ľ→¾).
_CP1250_MOJIBAKE = re.compile(r"[^\W\d_][¹³¿¾¥¼¯][^\W\d_]")


def _codec_name(label: str | None) -> str | None:
    """Python's codec for an encoding label, with the WHATWG reading of legacy labels."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    if name.startswith(("utf-16", "utf-32")):
        return None  # only a byte-order mark is trusted for these (checked first)
    return _SUPERSETS.get(name, name)


def _strict(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except UnicodeDecodeError:
        return None


def _guess(body: bytes) -> str:
    """Decode bytes that are not UTF-8 and whose labels lied."""
    western = _strict(body, "cp1252")
    best = charset_normalizer.from_bytes(body).best()
    if best is None:
        return western if western is not None else body.decode("cp1252", errors="replace")
    guessed = str(best)
    latin_script = all("Latin" in alphabet for alphabet in best.alphabets)
    # On short Latin-script text the detector cannot tell cp1252 from cp1250 or the ISO-8859
    # family (it reads French "à" as "ŕ"); cp1252 is by far the commonest, so it wins unless
    # its reading shows the symbols-inside-words of Central European text.
    if latin_script and western is not None and not _CP1250_MOJIBAKE.search(western):
        return western
    return guessed


def decode_html(body: bytes, declared_encoding: str | None) -> str:
    """The page's text: byte-order mark, else the HTTP charset, else the meta charset, when the
    bytes are valid in it; else UTF-8; else a guess that favours windows-1252."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, errors="replace")
    meta = _META_CHARSET.search(body[:_PRESCAN_BYTES])
    meta_label = meta.group(1).decode("ascii", errors="ignore") if meta else None
    for codec in (_codec_name(declared_encoding), _codec_name(meta_label), "utf-8"):
        text = _strict(body, codec) if codec else None
        if text is not None:
            return text
    logger.debug("labels %r/%r do not fit the bytes; guessing", declared_encoding, meta_label)
    return _guess(body)


_LANGUAGE = re.compile(r"[a-z]{2}")
# Read with a pattern rather than json.loads: broken JSON-LD is common and the value is enough.
_JSON_LD_PUBLISHED = re.compile(r'"datePublished"\s*:\s*"([^"]{1,64})"')
_PUBLISHED_META = (
    "//meta[@property='article:published_time' or @name='article:published_time'"
    " or @itemprop='datePublished' or @name='pubdate' or @name='publishdate']/@content"
)
_LANGUAGE_META = (
    "//meta[@property='og:locale' or @http-equiv='content-language' or @name='language']/@content"
)
# Log-probability gap per character below which two languages are close relatives: measured
# 0.1-0.7 for da/no, cs/sk, es/gl, id/ms, de/lb; 1.0-2.6 for unrelated pairs.
_CLOSE_LANGUAGE = 0.8
_DATE_SLACK_BEFORE, _DATE_SLACK_AFTER = timedelta(hours=14), timedelta(hours=36)


def _iso639_1(code: str | None) -> str | None:
    """The ISO 639-1 code in a language tag ("de-AT", "de_DE", "DE" → "de"), else None."""
    if not code:
        return None
    primary = re.split(r"[-_\s]", code.strip().lower(), maxsplit=1)[0]
    return primary if _LANGUAGE.fullmatch(primary) else None


def _declared_language(tree: HtmlElement) -> str | None:
    for code in (tree.get("lang"), tree.get("{http://www.w3.org/XML/1998/namespace}lang")):
        if language := _iso639_1(code):
            return language
    # the meta tags only where <html> says nothing: most pages need no search of the tree
    for code in tree.xpath(_LANGUAGE_META):
        if language := _iso639_1(str(code)):
            return language
    return None


def _parse_timestamp(value: str) -> datetime | None:
    """An ISO 8601 timestamp with a time of day, in UTC; naive times are taken as UTC."""
    value = value.strip()
    if len(value) <= len("2024-01-01"):
        return None  # a bare date adds no precision
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _published_at(
    tree: HtmlElement, day: str | None, hints: FeedHints, json_ld: list[str]
) -> datetime | None:
    """Publication time: trafilatura's date (found by htmldate's thorough search), refined to
    the time of day from the page's metadata (`json_ld`: its JSON-LD scripts), a <time>
    element or the feed when they agree."""
    declared = [str(value) for value in tree.xpath(_PUBLISHED_META)] + [
        found for block in json_ld for found in _JSON_LD_PUBLISHED.findall(block)
    ]
    precise = [_parse_timestamp(v) for v in declared]
    if day is None:
        # Without htmldate's date only the explicit metadata is trusted, then the feed.
        return next((stamp for stamp in precise if stamp), hints.published_at)
    try:
        midnight = datetime.combine(date.fromisoformat(day), time(), tzinfo=UTC)
    except ValueError:
        return hints.published_at
    precise += [_parse_timestamp(str(v)) for v in tree.xpath("//time/@datetime")[:3]]
    precise.append(hints.published_at)
    for stamp in precise:
        # The page's date is local to the publisher: any offset from UTC-12 to UTC+14 fits.
        if stamp and midnight - _DATE_SLACK_BEFORE <= stamp < midnight + _DATE_SLACK_AFTER:
            return stamp
    return midnight


def _declared_canonical(tree: HtmlElement, url: str) -> str | None:
    for query in ("//link[@rel='canonical']/@href", "//meta[@property='og:url']/@content"):
        for link in tree.xpath(query):  # og:url searched only where no canonical link serves
            if absolute := absolute_url(url, str(link)):
                return absolute
    return None


def _plain(summary: str | None) -> str | None:
    """Feed summaries are often HTML; keep their text only."""
    if not summary or not summary.strip():
        return None
    if "<" in summary:
        summary = lxml.html.fromstring(f"<div>{summary}</div>").text_content()
    return " ".join(summary.split()) or None


def _language(text: str, claims: list[str | None]) -> str | None:
    """The text's language: the first claim (page, feed, source) the text does not contradict,
    else what the text says.

    On the 181 corpus pages <html lang> was wrong on 4 (a German site's English articles and
    the reverse) while detection on the extracted text was right on all; a claim still wins
    over a close relative (nn/no, bs/hr, ms/id), where the page knows better than the model.
    """
    # A few thousand characters decide the language as well as the whole text, faster.
    sample = text[:3000]
    scores = dict(py3langid.rank(sample))  # log-probabilities, one per known language
    best = max(scores, key=scores.__getitem__)
    for claim in claims:
        if claim in scores and scores[best] - scores[claim] <= _CLOSE_LANGUAGE * len(sample):
            return claim
    return _iso639_1(best) or next((claim for claim in claims if claim), None)


def _without_headline(text: str, title: str | None) -> str:
    """The body without a first line that repeats the headline.

    trafilatura keeps an <h1> inside <article> as the first line; left there, two
    outlets carrying the same wire text under their own headlines would not be
    recognised as copies.
    """
    first, _, rest = text.partition("\n")
    if title and " ".join(first.split()).casefold() == " ".join(title.split()).casefold():
        return rest.strip()
    return text


def extract_article(
    html: str,
    url: str,
    hints: FeedHints | None = None,
    language_hint: str | None = None,
    options: ExtractOptions = DEFAULT_OPTIONS,
) -> Extracted:
    """The article in a page: text and metadata, with feed hints filling what the page lacks.

    Raises ExtractionError when the page holds no article text of at least min_text_chars.
    """
    return extract_document(html, url, hints, language_hint, options)[0]


def extract_document(
    html: str,
    url: str,
    hints: FeedHints | None = None,
    language_hint: str | None = None,
    options: ExtractOptions = DEFAULT_OPTIONS,
) -> tuple[Extracted, HtmlElement]:
    """extract_article, and the page as trafilatura parsed it (extraction leaves it intact),
    so what else is read from the page needs no second parse."""
    hints = hints or FeedHints()
    tree = load_html(html)
    if tree is None:
        raise ExtractionError("page is not parseable HTML")
    extractor = Extractor(
        output_format="python",
        fast=options.fast,
        precision=options.favor_precision,
        comments=False,
        dedup=False,  # duplicates are the database's business, not a process-wide cache's
        with_metadata=True,
        url=url,
        # htmldate's extensive search ends in guesses such as January 1st of a footer's
        # copyright year; a feed's date is better. It found a date on 2 more of 181 pages.
        date_params=set_date_params(extensive=False),
    )
    # trafilatura works on its own copy of the tree, so ours stays intact for metadata.
    document = bare_extraction(tree, options=extractor)
    text = (document.text or "").strip() if document is not None else ""
    text = _without_headline(text, document.title if document is not None else None)
    if not text:
        raise ExtractionError("no article text found")
    if len(text) < options.min_text_chars:
        raise ExtractionError(
            f"article text too short ({len(text)} characters, minimum {options.min_text_chars})"
        )
    json_ld = tree.xpath(JSON_LD)  # read once, for the authors and the publication time
    authors = page_authors(
        tree,
        url,
        guess=document.author,
        feed_author=hints.author,
        site_names=(hints.site_name, document.sitename),
        json_ld=json_ld,
    )
    extracted = Extracted(
        title=document.title or hints.title,
        author=", ".join(authors) or None,
        published_at=_published_at(tree, document.date, hints, json_ld),
        language=_language(
            text, [_declared_language(tree), _iso639_1(hints.language), _iso639_1(language_hint)]
        ),
        text=text,
        lead=document.description or _plain(hints.summary),
        # a search provider names the outlet; trafilatura falls back to the bare domain
        site_name=hints.site_name or document.sitename,
        image_url=absolute_url(url, document.image) or hints.image_url,
        declared_canonical=_declared_canonical(tree, url),
    )
    return extracted, tree
