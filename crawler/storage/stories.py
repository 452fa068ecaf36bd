"""Queries on stories: place a new article (near-duplicate or shared evidence), index it, list."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, distinct, func, insert, select
from sqlalchemy.orm import Session

from crawler import items
from crawler.dedupe import COPY_CONTAINMENT, overlap, shingles
from crawler.evidence import kind
from crawler.storage import dialect
from crawler.storage.models import Article, Source, Story
from crawler.storage.models.stories import ArticleBand, ArticleEvidence, EvidenceCount
from crawler.stories import WINDOW, Candidate, choose, explain, is_copy, rare_keys

MAX_NEAR_CANDIDATES = 20  # most band-sharing articles verified on their text; a bounded cost
MAX_EVIDENCE_ARTICLES = 50  # most key-sharing articles in the window assessed


@dataclass(frozen=True)
class Placement:
    """Where a new article belongs: an existing story (and why) or a new one (story_id None)."""

    story_id: int | None
    duplicate_of: int | None
    reason: str
    # evidence keys the story was seen to carry already: not counted again as a new telling
    known_keys: frozenset[str] = frozenset()


NEW_STORY = Placement(None, None, "first")


def place(
    session: Session,
    text: str,
    fingerprint: items.Fingerprint,
    dated_at: datetime,
    language: str | None = None,
) -> Placement:
    """The story a new article joins: a near-duplicate's, else one sharing rare evidence."""
    near = near_duplicate(session, text, fingerprint)
    if near is not None:
        return near
    return related(session, fingerprint, dated_at, language) or NEW_STORY


def near_duplicate(session: Session, text: str, fingerprint: items.Fingerprint) -> Placement | None:
    """A stored article whose text this one copies, verified exactly on shingles.

    The band index gives candidates at the cost of one index probe per band; only the few
    sharing the most bands are compared on their text. Texts alike but for their figures
    (two reports in one template) are not copies.
    """
    if not fingerprint.bands:
        return None
    shared = func.count().label("shared")
    candidates = session.execute(
        select(ArticleBand.article_id, shared)
        .where(ArticleBand.key.in_(list(fingerprint.bands)))
        .group_by(ArticleBand.article_id)
        .order_by(shared.desc(), ArticleBand.article_id)
        .limit(MAX_NEAR_CANDIDATES)
    ).all()
    if not candidates:
        return None
    mine, my_keys = shingles(text), [key for key, _ in fingerprint.evidence]
    stored = session.execute(
        select(Article.id, Article.story_id, Article.text).where(
            Article.id.in_([row.article_id for row in candidates])
        )
    ).all()
    best = None
    for row in sorted(stored, key=lambda row: row.id):
        found = overlap(mine, shingles(row.text))
        if found.containment < COPY_CONTAINMENT:
            continue  # most candidates: no need to read their evidence
        if not is_copy(found, my_keys, _stored_text_evidence(session, row.id)):
            continue
        if best is None or found.containment > best[1].containment:
            best = (row, found)
    if best is None:
        return None
    row, found = best
    share = f"{found.containment:.0%} of the shorter text in common"
    return Placement(row.story_id, row.id, f"near-duplicate of #{row.id} ({share})")


def _stored_text_evidence(session: Session, article_id: int) -> list[str]:
    """The evidence keys stored for an article, as its text alone gives them (no links).

    Read from the index rather than recomputed: evidence extraction is the costliest
    step of placing an article, and copies of a wire story meet it for every candidate.
    """
    keys = session.scalars(
        select(ArticleEvidence.key).where(ArticleEvidence.article_id == article_id)
    )
    return [key for key in keys if kind(key) != "link"]


def related(
    session: Session,
    fingerprint: items.Fingerprint,
    dated_at: datetime,
    language: str | None = None,
) -> Placement | None:
    """A story of the time window whose member shares enough rare evidence with this article."""
    labels = dict(fingerprint.evidence)
    if not labels:
        return None
    window = (ArticleEvidence.dated_at >= dated_at - WINDOW) & (
        ArticleEvidence.dated_at <= dated_at + WINDOW
    )
    counts = dict(
        session.execute(
            select(ArticleEvidence.key, func.count(distinct(ArticleEvidence.story_id)))
            .where(ArticleEvidence.key.in_(list(labels)), window)
            .group_by(ArticleEvidence.key)
        ).all()
    )
    spread = dict(
        session.execute(
            select(EvidenceCount.key, EvidenceCount.stories).where(
                EvidenceCount.key.in_(list(counts))
            )
        ).all()
    )
    archive_stories = session.scalar(select(func.max(Story.id))) or 0
    rare = rare_keys(counts, spread, archive_stories)
    if not rare:
        return None
    postings = session.execute(
        select(ArticleEvidence.article_id, ArticleEvidence.story_id, ArticleEvidence.key).where(
            ArticleEvidence.key.in_(sorted(rare)), window
        )
    ).all()
    shared: dict[tuple[int, int], set[str]] = defaultdict(set)
    for article_id, story_id, key in postings:
        shared[(article_id, story_id)].add(key)
    # Thin overlaps cannot pass assess(); keep the best-supported few for the size query.
    top = sorted(shared.items(), key=lambda item: (-len(item[1]), item[0][0]))
    top = top[:MAX_EVIDENCE_ARTICLES]
    totals = _evidence_totals(session, [article_id for (article_id, _), _ in top])
    languages = dict(
        session.execute(
            select(Article.id, Article.language).where(Article.id.in_(list(totals)))
        ).all()
    )
    candidates = [
        Candidate(article_id, story_id, frozenset(keys), totals.get(article_id, len(keys)),
                  languages.get(article_id))
        for (article_id, story_id), keys in top
    ]  # fmt: skip
    join = choose(candidates, len(labels), counts, language)
    if join is None:
        return None
    known = frozenset(key for (_, story), keys in shared.items() if story == join.story_id
                      for key in keys)  # fmt: skip
    return Placement(join.story_id, None, explain(join, labels), known)


def _evidence_totals(session: Session, article_ids: list[int]) -> dict[int, int]:
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
        select(Article.story_id, Article.id, Article.source_id, Article.language,
               _dated().label("dated"), Article.title)
        .where(Article.story_id.in_(ids))
        .order_by(Article.story_id, Article.id)
    ).all()  # fmt: skip
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
        select(Article.id, Source.name, Article.language, _dated(), Article.title, Article.url,
               Article.duplicate_of_id, Article.story_reason)
        .join(Source, Source.id == Article.source_id)
        .where(Article.story_id == story_id)
        .order_by(Article.id)
    ).all()  # fmt: skip
    return [Member(*row) for row in rows]
