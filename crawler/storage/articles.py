"""Queries on articles: insert one, find one by URL or content hash, list the feed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from crawler import items
from crawler.storage.models import Article, Source


def by_url(session: Session, url: str) -> Row | None:
    """The id and story id of the article stored under this canonical URL, if any."""
    return session.execute(select(Article.id, Article.story_id).where(Article.url == url)).first()


def first_with_hash(session: Session, content_hash: str) -> Row | None:
    """The id and story id of the first article stored with this content hash, if any."""
    return session.execute(
        select(Article.id, Article.story_id)
        .where(Article.content_hash == content_hash)
        .order_by(Article.id)
        .limit(1)
    ).first()


def texts(session: Session, article_ids: Iterable[int]) -> Sequence[Row]:
    """Id, story id and text of these articles."""
    return session.execute(
        select(Article.id, Article.story_id, Article.text).where(Article.id.in_(list(article_ids)))
    ).all()


def languages(session: Session, article_ids: Iterable[int]) -> dict[int, str | None]:
    return dict(
        session.execute(
            select(Article.id, Article.language).where(Article.id.in_(list(article_ids)))
        ).all()
    )


def insert(
    session: Session,
    source_id: int,
    article: items.Article,
    story_id: int,
    duplicate_of: int | None,
    reason: str,
) -> int:
    """Insert the article row (flushed, not committed); IntegrityError if its URL is taken."""
    row = Article(
        source_id=source_id,
        url=article.url,
        link_key=article.link_key,
        link_url=article.link_url,
        final_url=article.final_url,
        title=article.title,
        author=article.author,
        published_at=article.published_at,
        language=article.language,
        text=article.text,
        lead=article.lead,
        site_name=article.site_name,
        image_url=article.image_url,
        content_hash=article.content_hash,
        story_id=story_id,
        duplicate_of_id=duplicate_of,
        story_reason=reason,
        fetched_at=article.fetched_at,
    )
    session.add(row)
    session.flush()
    return row.id


def known_urls(session: Session, urls: Iterable[str]) -> set[str]:
    """Which of `urls` (canonical keys) led to a stored article already.

    A key counts when it is an article's canonical URL or the key of the link that led to
    it (the two differ when a page names another canonical URL for itself).
    """
    wanted = list(dict.fromkeys(urls))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):  # stay below SQL parameter limits
        chunk = wanted[start : start + 500]
        found.update(session.scalars(select(Article.url).where(Article.url.in_(chunk))))
        found.update(session.scalars(select(Article.link_key).where(Article.link_key.in_(chunk))))
    return found


def get_article(session: Session, article_id: int) -> tuple[Article, str] | None:
    row = session.execute(
        select(Article, Source.name)
        .join(Source, Article.source_id == Source.id)
        .where(Article.id == article_id)
    ).first()
    return (row[0], row[1]) if row else None


def story_members(session: Session, story_id: int) -> Sequence[tuple[Article, str]]:
    return session.execute(
        select(Article, Source.name)
        .join(Source, Article.source_id == Source.id)
        .where(Article.story_id == story_id)
        .order_by(Article.id)
    ).all()
