"""Queries for page captures: add one with its article, read one back, prune by retention."""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session

from crawler import items
from crawler.storage.models import Article, Source
from crawler.storage.models.alerts import AlertGap, AlertMatch, AlertState
from crawler.storage.models.captures import PageCapture

COMPRESSION = "zlib"  # stdlib, and HTML shrinks about fivefold at the default level


@dataclass(frozen=True)
class CaptureFacts:
    """What a page shows of a capture, without its body."""

    article_id: int
    fetched_at: datetime
    final_url: str
    status: int
    body_sha256: str
    body_size: int
    extractor: str


@dataclass(frozen=True)
class RuleMatch:
    rule: str
    matched_at: datetime
    article_id: int  # the story's article the rule matched first (one alert per story)


@dataclass(frozen=True)
class Evidence:
    """A stored article with its capture (None when none was kept) and its story's matches."""

    article_id: int
    source: str
    url: str  # the storage key
    title: str | None
    author: str | None
    published_at: datetime | None
    language: str | None
    story_id: int
    text: str
    stored_at: datetime
    capture: items.Capture | None
    matches: tuple[RuleMatch, ...]


@dataclass(frozen=True)
class Pruned:
    """Captures removed by one prune: past the retention period, and of unmatched articles."""

    expired: int
    unmatched: int
    settled: int = 0  # every article up to this id was decided: where the next prune starts

    @property
    def total(self) -> int:
        return self.expired + self.unmatched


def add(session: Session, article_id: int, capture: items.Capture) -> None:
    """Add the capture of a just-inserted article (flushed with it, not committed)."""
    session.add(
        PageCapture(
            article_id=article_id,
            fetched_at=capture.fetched_at,
            requested_url=capture.requested_url,
            final_url=capture.final_url,
            status=capture.status,
            headers=[list(pair) for pair in capture.headers],
            compression=COMPRESSION,
            body=zlib.compress(capture.body),
            body_sha256=hashlib.sha256(capture.body).hexdigest(),
            body_size=len(capture.body),
            extractor=capture.extractor,
        )
    )


def get(session: Session, article_id: int) -> items.Capture | None:
    """The capture of an article, body uncompressed; None if none was kept (or it was pruned).

    Raises ValueError when the stored body does not hash to its recorded SHA-256.
    """
    row = session.scalar(select(PageCapture).where(PageCapture.article_id == article_id))
    if row is None:
        return None
    body = zlib.decompress(row.body)
    if hashlib.sha256(body).hexdigest() != row.body_sha256:
        raise ValueError(f"the capture of article {article_id} does not match its SHA-256")
    return items.Capture(
        requested_url=row.requested_url,
        final_url=row.final_url,
        status=row.status,
        headers=tuple((name, value) for name, value in row.headers),
        body=body,
        fetched_at=row.fetched_at,
        extractor=row.extractor,
    )


def facts(session: Session, article_id: int) -> CaptureFacts | None:
    columns = (
        PageCapture.article_id,
        PageCapture.fetched_at,
        PageCapture.final_url,
        PageCapture.status,
        PageCapture.body_sha256,
        PageCapture.body_size,
        PageCapture.extractor,
    )
    row = session.execute(select(*columns).where(PageCapture.article_id == article_id)).first()
    return CaptureFacts(*row) if row else None


def prune(session: Session, *, keep: str, older_than: datetime | None, above: int = 0) -> Pruned:
    """Remove captures fetched before `older_than` (None: none expire), and unless `keep` is
    "all", those of articles the alerts engine has passed (at or below its watermark, not a
    gap still to be matched) whose story no rule matched. Commits.

    Only articles after `above` are looked at for a match: pass the `settled` of the
    previous prune, so a round checks what the engine passed since, not every page kept.
    Matching is per story (one alert per story), so every copy in a matched story keeps
    its capture: each is what one outlet published of it.
    """
    expired = 0
    if older_than is not None:
        old = delete(PageCapture).where(PageCapture.fetched_at < older_than)
        expired = session.execute(old).rowcount
    unmatched = 0
    watermark = session.scalar(select(AlertState.last_article_id).where(AlertState.id == 1))
    settled = above
    if keep != "all" and watermark is not None:
        gaps = select(AlertGap.article_id)
        matched = exists().where(
            Article.id == PageCapture.article_id, AlertMatch.story_id == Article.story_id
        )
        passed = delete(PageCapture).where(
            PageCapture.article_id > above,
            PageCapture.article_id <= watermark,
            PageCapture.article_id.not_in(gaps),
            ~matched,
        )
        unmatched = session.execute(passed.execution_options(synchronize_session=False)).rowcount
        # A gap is matched later, below the watermark: the next prune starts before it.
        first_gap = session.scalar(select(func.min(AlertGap.article_id)))
        settled = max(above, min(watermark, first_gap - 1 if first_gap else watermark))
    session.commit()
    return Pruned(expired, unmatched, settled)


def evidence(session: Session, article_id: int) -> Evidence | None:
    """Everything kept about what one article's outlet published; None: no such article."""
    row = session.execute(
        select(Article, Source.name)
        .join(Source, Article.source_id == Source.id)
        .where(Article.id == article_id)
    ).first()
    if row is None:
        return None
    article, source = row
    found = session.execute(
        select(AlertMatch.rule, AlertMatch.matched_at, AlertMatch.article_id)
        .where(AlertMatch.story_id == article.story_id)
        .order_by(AlertMatch.matched_at, AlertMatch.rule)
    )
    return Evidence(
        article_id=article.id,
        source=source,
        url=article.url,
        title=article.title,
        author=article.author,
        published_at=article.published_at,
        language=article.language,
        story_id=article.story_id,
        text=article.text,
        stored_at=article.stored_at,
        capture=get(session, article.id),
        matches=tuple(RuleMatch(*match) for match in found),
    )
