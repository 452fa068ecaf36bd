"""Queries on article versions and the re-check schedule of matched articles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from crawler.storage.models import Article
from crawler.storage.models.alerts import AlertMatch
from crawler.storage.models.versions import ArticleVersion, ArticleWatch
from crawler.versions import EDITED, Snapshot, Version, compare, content_hash, next_check


@dataclass(frozen=True)
class Due:
    """A matched article whose next re-check is due, with what the request needs."""

    article_id: int
    key: str  # the article's canonical URL
    url: str  # where it was fetched from, as the outside world gave it
    title: str | None
    author: str | None
    published_at: datetime | None
    etag: str | None
    last_modified: str | None


def watch_matched(session: Session, source_id: int, after: tuple[float, ...], now: datetime) -> int:
    """Put the source's matched articles that are not watched yet on the re-check schedule.

    The first check is `after[0]` from the article's first fetch (due at once for an
    article matched later than that); an article first fetched longer ago than the last
    step is past its schedule and not watched. Flushed, not committed; how many were added.
    """
    if not after:
        return 0
    watched = select(ArticleWatch.article_id).where(ArticleWatch.article_id == Article.id)
    new = session.execute(
        select(Article.id, Article.fetched_at)
        .join(AlertMatch, AlertMatch.article_id == Article.id)
        .where(
            Article.source_id == source_id,
            Article.fetched_at > now - timedelta(seconds=after[-1]),
            ~exists(watched),
        )
        .distinct()
    ).all()
    for article_id, fetched_at in new:
        first = fetched_at + timedelta(seconds=after[0])
        session.add(ArticleWatch(article_id=article_id, next_check_at=first, checks_done=0))
    session.flush()
    return len(new)


def due(session: Session, source_id: int, now: datetime, limit: int) -> list[Due]:
    """The source's watched articles whose re-check is due, longest waiting first."""
    found = session.execute(
        select(Article, ArticleWatch)
        .join(ArticleWatch, ArticleWatch.article_id == Article.id)
        .where(Article.source_id == source_id, ArticleWatch.next_check_at <= now)
        .order_by(ArticleWatch.next_check_at, Article.id)
        .limit(limit)
    ).all()
    return [
        Due(
            article_id=article.id,
            key=article.url,
            url=article.final_url or article.link_url or article.url,
            title=article.title,
            author=article.author,
            published_at=article.published_at,
            etag=watch.etag,
            last_modified=watch.last_modified,
        )
        for article, watch in found
    ]


def latest(session: Session, article_id: int) -> tuple[Snapshot, str]:
    """The newest version of the article and how it came about (the row itself: edited)."""
    newest = session.scalars(
        select(ArticleVersion)
        .where(ArticleVersion.article_id == article_id)
        .order_by(ArticleVersion.number.desc())
        .limit(1)
    ).first()
    if newest is not None:
        return _snapshot(newest), newest.change
    article = session.get_one(Article, article_id)
    return _snapshot(article), EDITED


def observe(
    session: Session,
    article_id: int,
    seen: Snapshot,
    change: str,
    status: int | None,
    now: datetime,
) -> int | None:
    """Record `seen` as the article's next version when it differs materially from the
    newest one; its number, or None. Flushed, not committed."""
    previous, previous_change = latest(session, article_id)
    decided = compare(previous, previous_change, seen, change)
    digest = content_hash(seen, change)
    if decided is None or digest == _latest_hash(session, article_id):
        return None
    number = 1 + (
        session.scalar(
            select(func.max(ArticleVersion.number)).where(ArticleVersion.article_id == article_id)
        )
        or 1
    )
    session.add(
        ArticleVersion(
            article_id=article_id,
            number=number,
            seen_at=now,
            change=decided.change,
            changed=",".join(decided.changed),
            status=status,
            final_url=seen.final_url,
            title=seen.title,
            author=seen.author,
            published_at=seen.published_at,
            text=seen.text,
            content_hash=digest,
        )
    )
    session.flush()
    return number


def _latest_hash(session: Session, article_id: int) -> str | None:
    return session.scalar(
        select(ArticleVersion.content_hash)
        .where(ArticleVersion.article_id == article_id)
        .order_by(ArticleVersion.number.desc())
        .limit(1)
    )


def checked(
    session: Session,
    article_id: int,
    after: tuple[float, ...],
    now: datetime,
    *,
    status: int | None,
    etag: str | None = None,
    last_modified: str | None = None,
    error: str | None = None,
) -> None:
    """A re-check is over (answered, or failed for good): on to the schedule's next step.

    A 304 keeps the validators it was asked with; any other answer replaces them.
    """
    watch = session.get_one(ArticleWatch, article_id)
    fetched_at = session.scalar(select(Article.fetched_at).where(Article.id == article_id))
    watch.checks_done, watch.next_check_at = next_check(fetched_at, after, watch.checks_done, now)
    watch.attempts = 0
    watch.last_status = status
    watch.last_checked_at = now
    watch.last_error = error
    if status != 304:
        watch.etag, watch.last_modified = etag, last_modified
    session.flush()


def attempts(session: Session, article_id: int) -> int:
    """Failed tries of the article's current re-check so far."""
    return (
        session.scalar(select(ArticleWatch.attempts).where(ArticleWatch.article_id == article_id))
        or 0
    )


def retry_at(
    session: Session, article_id: int, when: datetime, now: datetime, error: str, status: int | None
) -> None:
    """A re-check failed for a passing cause: tried again at `when`."""
    watch = session.get_one(ArticleWatch, article_id)
    watch.attempts += 1
    watch.next_check_at = when
    watch.last_status = status
    watch.last_checked_at = now
    watch.last_error = error
    session.flush()


def history(session: Session, article_id: int) -> list[Version]:
    """Every version of the article, oldest first; [] when it is unknown."""
    article = session.get(Article, article_id)
    if article is None:
        return []
    first = Version(1, article.fetched_at, "first", (), None, article.final_url, _snapshot(article))
    later = session.scalars(
        select(ArticleVersion)
        .where(ArticleVersion.article_id == article_id)
        .order_by(ArticleVersion.number)
    ).all()
    return [first, *(_version(row) for row in later)]


def _version(row: ArticleVersion) -> Version:
    changed = tuple(name for name in row.changed.split(",") if name)
    return Version(
        row.number, row.seen_at, row.change, changed, row.status, row.final_url, _snapshot(row)
    )


def _snapshot(row: Article | ArticleVersion) -> Snapshot:
    return Snapshot(row.title, row.author, row.published_at, row.text, row.final_url)
