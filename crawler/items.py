"""The values that flow through Scrapy: an article page before extraction, an article after."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class FeedHints:
    """What a feed, sitemap or listing said about a link before the page was fetched.

    Extraction uses these to fill fields the page itself lacks.
    """

    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None  # timezone-aware UTC
    summary: str | None = None
    language: str | None = None
    image_url: str | None = None
    site_name: str | None = None  # the outlet's name, as a news-search result gives it

    def to_json(self) -> dict[str, str]:
        """The hints as a JSON object (kept with a link in the backlog)."""
        values = {key: value for key, value in vars(self).items() if value is not None}
        if self.published_at is not None:
            values["published_at"] = self.published_at.isoformat()
        return values

    @classmethod
    def from_json(cls, values: dict[str, str]) -> FeedHints:
        known = {key: value for key, value in values.items() if key in cls.__dataclass_fields__}
        if known.get("published_at"):
            known["published_at"] = datetime.fromisoformat(known["published_at"])
        return cls(**known)


@dataclass(frozen=True)
class Recheck:
    """What a re-fetch of a stored, matched article carries to the version pipeline."""

    article_id: int
    status: int  # the HTTP status of the answer
    moved: bool  # redirected to a page with another canonical URL
    etag: str | None = None  # the answer's validators, kept with the version for next time
    last_modified: str | None = None


@dataclass(frozen=True)
class ArticlePage:
    """A fetched article page, not yet extracted."""

    source: str  # the configured source's name
    link_url: str  # the link as published (made absolute, fragment dropped): what was requested
    link_key: str  # its canonical form: how the link is recognised
    final_url: str  # where the response came from, after redirects
    body: bytes
    declared_encoding: str | None  # from the Content-Type header, if any
    hints: FeedHints = field(default_factory=FeedHints)
    language_hint: str | None = None  # the source's configured language
    # Kept as evidence of what the outlet served (Capture); not needed by extraction.
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()  # as received (middlewares.wire_coding)
    fetched_at: datetime | None = None  # when the response arrived (timezone-aware UTC)
    recheck: Recheck | None = None  # a re-fetch of a stored article: compared, not stored


@dataclass(frozen=True)
class Capture:
    """The page exactly as the outlet served it: kept as evidence (crawler.storage.captures)."""

    requested_url: str  # the link as published
    final_url: str  # after redirects
    status: int
    headers: tuple[tuple[str, str], ...]  # (name, value) pairs, in the order received
    body: bytes  # as fetched, after the HTTP content coding (gzip, br) was undone
    fetched_at: datetime
    extractor: str  # what produced the stored text, e.g. "trafilatura 2.3.1 (newswatch 0.1.0)"


@dataclass(frozen=True)
class Extracted:
    """What extraction found in one page (see crawler.extract)."""

    title: str | None
    author: str | None
    published_at: datetime | None  # timezone-aware UTC
    language: str | None  # ISO 639-1 code
    text: str
    lead: str | None
    site_name: str | None
    image_url: str | None
    declared_canonical: str | None  # rel=canonical or og:url of the page, made absolute


@dataclass(frozen=True)
class Fingerprint:
    """What story grouping compares (see crawler.fingerprints), computed beside extraction."""

    bands: tuple[int, ...]  # MinHash band keys: near-duplicate candidates share one
    evidence: tuple[tuple[str, str], ...]  # (key, label): names, numbers, quotes, links


@dataclass(frozen=True)
class Article:
    """An extracted article ready to be de-duplicated and stored."""

    source: str
    url: str  # the storage key, decided by crawler.urls.article_key
    link_key: str  # canonical form of the link that led here (crawler.urls.canonical_url)
    title: str | None
    author: str | None
    published_at: datetime | None
    language: str | None
    text: str
    lead: str | None
    site_name: str | None
    image_url: str | None
    content_hash: str  # crawler.dedupe.content_hash(text)
    fetched_at: datetime
    fingerprint: Fingerprint  # computed with extraction (crawler.fingerprints)
    link_url: str | None = None  # the link as published, exactly as it was requested
    final_url: str | None = None  # where the page came from, after redirects
    capture: Capture | None = None  # the page as served; None when evidence is not kept
    recheck: Recheck | None = None  # a re-fetch of a stored article: compared, not stored


@dataclass(frozen=True)
class Link:
    """A link to an article found in a feed, sitemap or listing page, with what it said."""

    url: str
    hints: FeedHints = field(default_factory=FeedHints)
