"""Queries on stories: candidates for placing an article, its index rows, listings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, Select, distinct, func, insert, select
from sqlalchemy.orm import Session

from crawler import items
from crawler.storage import dialect
from crawler.storage.models import Article, Source, Story
from crawler.storage.models.stories import ArticleBand, ArticleEvidence, EvidenceCount


def new_story(session: Session) -> int:
    """Open an empty story; its id (flushed, not committed)."""
    story = Story()
    session.add(story)
    session.flush()
    return story.id


def story_count(session: Session) -> int:
    """How many stories the archive holds (ids are never reused)."""
    return session.scalar(select(func.max(Story.id))) or 0


def band_candidates(session: Session, bands: Iterable[str], limit: int) -> list[int]:
    """Ids of the articles sharing the most of these band keys, most first (at most `limit`)."""
    return list(
        session.scalars(
            select(ArticleBand.article_id)
            .where(ArticleBand.key.in_(list(bands)))
            .group_by(ArticleBand.article_id)
            .order_by(func.count().desc(), ArticleBand.article_id)
            .limit(limit)
        )
    )


def evidence_keys(session: Session, article_id: int) -> list[str]:
    """The evidence keys indexed for an article."""
    return list(
        session.scalars(select(ArticleEvidence.key).where(ArticleEvidence.article_id == article_id))
    )


def _dated_between(since: datetime, until: datetime):
    return (ArticleEvidence.dated_at >= since) & (ArticleEvidence.dated_at <= until)


def stories_per_key(
    session: Session, keys: Iterable[str], since: datetime, until: datetime
) -> dict[str, int]:
    """For each of these keys found between `since` and `until`: how many stories carry it."""
    return dict(
        session.execute(
            select(ArticleEvidence.key, func.count(distinct(ArticleEvidence.story_id)))
            .where(ArticleEvidence.key.in_(list(keys)), _dated_between(since, until))
            .group_by(ArticleEvidence.key)
        ).all()
    )


def archive_spread(session: Session, keys: Iterable[str]) -> dict[str, int]:
    """For each of these keys: in how many stories of the whole archive it was counted."""
    return dict(
        session.execute(
            select(EvidenceCount.key, EvidenceCount.stories).where(
                EvidenceCount.key.in_(list(keys))
            )
        ).all()
    )


def postings(
    session: Session, keys: Iterable[str], since: datetime, until: datetime
) -> Sequence[Row]:
    """(article id, story id, key) of each article dated in the window carrying these keys."""
    return session.execute(
        select(ArticleEvidence.article_id, ArticleEvidence.story_id, ArticleEvidence.key).where(
            ArticleEvidence.key.in_(sorted(keys)), _dated_between(since, until)
        )
    ).all()


def evidence_totals(session: Session, article_ids: list[int]) -> dict[int, int]:
    """How many evidence keys each of these articles has."""
    if not article_ids:
        return {}
    return dict(
        session.execute(
            select(ArticleEvidence.article_id, func.count())
            .where(ArticleEvidence.article_id.in_(article_ids))
            .group_by(ArticleEvidence.article_id)
        ).all()
    )


def index(
    session: Session,
    article_id: int,
    story_id: int,
    fingerprint: items.Fingerprint,
    dated_at: datetime,
    *,
    counted: Iterable[str] | None = None,
) -> None:
    """Record the article's band and evidence keys, so later articles can find it.

    Of the evidence keys, those in `counted` (all when None) are new to the story and add
    one to their count of stories in evidence_counts.
    """
    bands = [{"key": key, "article_id": article_id} for key in dict.fromkeys(fingerprint.bands)]
    if bands:
        # Core executemany, not the ORM's bulk path: dozens of rows per article, hot loop.
        session.connection().execute(insert(ArticleBand.__table__), bands)
    keys = list(dict.fromkeys(key for key, _ in fingerprint.evidence))
    if not keys:
        return
    rows = [
        {"article_id": article_id, "key": key, "story_id": story_id, "dated_at": dated_at}
        for key in keys
    ]
    session.connection().execute(insert(ArticleEvidence.__table__), rows)
    fresh = keys if counted is None else sorted(set(counted) & set(keys))
    if fresh:
        upsert = dialect.insert(session, EvidenceCount).on_conflict_do_update(
            index_elements=["key"], set_={"stories": EvidenceCount.stories + 1}
        )
        # sorted, so concurrent writers lock shared rows in one order and never deadlock
        session.execute(upsert, [{"key": key, "stories": 1} for key in sorted(fresh)])


@dataclass(frozen=True)
class StorySummary:
    id: int
    articles: int
    outlets: int
    languages: tuple[str, ...]
    first_seen: datetime  # the oldest member's date (published, else fetched)
    last_active: datetime  # the newest member's date: a story with fresh reports is current
    title: str | None  # the first member's


def _dated():
    return func.coalesce(Article.published_at, Article.fetched_at)


def summaries(session: Session, story_ids: Iterable[int]) -> dict[int, StorySummary]:
    """Size, outlets, languages, first and last dates and first title of each story."""
    ids = list(dict.fromkeys(story_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(
            Article.story_id,
            Article.id,
            Article.source_id,
            Article.language,
            _dated().label("dated"),
            Article.title,
        )
        .where(Article.story_id.in_(ids))
        .order_by(Article.story_id, Article.id)
    ).all()
    members: dict[int, list] = defaultdict(list)
    for row in rows:
        members[row.story_id].append(row)
    return {
        story_id: StorySummary(
            story_id,
            len(found),
            len({row.source_id for row in found}),
            tuple(sorted({row.language for row in found if row.language})),
            min(row.dated for row in found),
            max(row.dated for row in found),
            found[0].title,
        )
        for story_id, found in members.items()
    }


def list_stories(
    session: Session, *, min_articles: int = 1, limit: int = 30, since: datetime | None = None
) -> list[StorySummary]:
    """The most recently active stories first: by their newest article's date.

    Story ids follow the order articles were stored, not the news: a backfilled or
    late-crawled article opens a high id for old news, and an old story gains new reports.
    """
    query: Select = (
        select(Article.story_id)
        .group_by(Article.story_id)
        .order_by(func.max(_dated()).desc(), Article.story_id.desc())
        .limit(limit)
    )
    if min_articles > 1:
        query = query.having(func.count() >= min_articles)
    if since is not None:
        query = query.having(func.min(_dated()) >= since)
    ids = list(session.scalars(query))
    found = summaries(session, ids)
    return [found[story_id] for story_id in ids if story_id in found]


@dataclass(frozen=True)
class Member:
    id: int
    source: str
    language: str | None
    dated: datetime
    title: str | None
    url: str
    duplicate_of: int | None
    reason: str


def members(session: Session, story_id: int) -> list[Member]:
    """The story's articles in the order they joined, with why each joined."""
    rows = session.execute(
        select(
            Article.id,
            Source.name,
            Article.language,
            _dated(),
            Article.title,
            Article.url,
            Article.duplicate_of_id,
            Article.story_reason,
        )
        .join(Source, Source.id == Article.source_id)
        .where(Article.story_id == story_id)
        .order_by(Article.id)
    ).all()
    return [Member(*row) for row in rows]
