"""Queries on stories: candidates for placing an article, its index row, listings."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, Select, column, func, insert, literal, select, table, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from crawler import items
from crawler.storage import dialect
from crawler.storage.models import Article, Source, Story
from crawler.storage.models.stories import EvidenceCount, StoryIndex


def new_story(session: Session) -> int:
    """Open an empty story; its id (flushed, not committed)."""
    story = Story()
    session.add(story)
    session.flush()
    return story.id


def story_count(session: Session) -> int:
    """How many stories the archive holds (ids are never reused)."""
    return session.scalar(select(func.max(Story.id))) or 0


# Evidence is indexed per key and cell of time, under the article's own cell and the
# neighbour nearer to it; a lookup up to CELL / 2 either side of a moment then asks the
# moment's own cell alone: one token per key, whatever the window's position.
CELL = timedelta(hours=96)
_CELL_SECONDS = int(CELL.total_seconds())
TOKENS_TABLE = "story_tokens"  # SQLite's FTS5 index over story_index.tokens (migration 0010)
TOKENS_INDEX = "ix_story_index_tokens"  # PostgreSQL's GIN index over it
_TOKENS = table(TOKENS_TABLE, column("rowid"))


def include_name(name: str | None, type_: str, _parent_names: object) -> bool:
    """Alembic hook: leave the hand-made token indexes out of the models-versus-database
    comparison (they have no model; migration 0010 creates them per backend)."""
    if name is None:
        return True
    if type_ == "table":
        return name != TOKENS_TABLE and not name.startswith(TOKENS_TABLE + "_")
    if type_ == "index":
        return name != TOKENS_INDEX
    return True


def time_cells(moment: datetime) -> tuple[int, int]:
    """The cell a moment falls in (counted from the epoch), and the neighbour nearer to it."""
    cell, offset = divmod(int(moment.timestamp()), _CELL_SECONDS)
    return cell, cell - 1 if offset < _CELL_SECONDS // 2 else cell + 1


def evidence_token(cell: int, key: str) -> int:
    """The token of an evidence key in one cell of time: signed 63 bits, like band keys."""
    digest = hashlib.blake2b(f"{cell}\n{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest) & 0x7FFF_FFFF_FFFF_FFFF


def evidence_tokens(dated_at: datetime, keys: Iterable[str]) -> list[int]:
    """The tokens an article dated `dated_at` is indexed by for its evidence keys."""
    cells = time_cells(dated_at)
    return [evidence_token(cell, key) for key in keys for cell in cells]


def _sharing(session: Session, tokens: Iterable[int]):
    """A condition on story_index: the row holds any of these tokens (by its inverted index)."""
    tokens = sorted(set(tokens))
    if dialect.is_postgresql(session):
        return StoryIndex.tokens.op("&&")(literal(tokens, ARRAY(BigInteger)))
    # FTS5 reads digits as one token; OR of barewords
    match = select(_TOKENS.c.rowid).where(
        text(f"{TOKENS_TABLE} MATCH :tokens").bindparams(tokens=" OR ".join(map(str, tokens)))
    )
    return StoryIndex.article_id.in_(match.scalar_subquery())


def band_candidates(session: Session, bands: Iterable[int], limit: int) -> list[int]:
    """Ids of the articles sharing the most of these band keys, most first (at most `limit`).

    One probe of the inverted index per band key; the articles found are few but for
    copies of one text, each counted on its own row.
    """
    wanted = set(bands)
    if not wanted:
        return []
    rows = session.execute(
        select(StoryIndex.article_id, StoryIndex.tokens).where(_sharing(session, wanted))
    ).all()
    ranked = sorted((-len(wanted.intersection(tokens)), article_id) for article_id, tokens in rows)
    return [article_id for _, article_id in ranked[:limit]]


def evidence_keys(session: Session, article_id: int) -> list[str]:
    """The evidence keys indexed for an article, in their order."""
    found = session.scalar(select(StoryIndex.evidence).where(StoryIndex.article_id == article_id))
    return found.split("\n") if found else []


@dataclass(frozen=True)
class Posting:
    """An article dated in the window carrying some of the asked keys."""

    article_id: int
    story_id: int
    shared: frozenset[str]  # the asked keys it carries
    total: int  # how many evidence keys it has in all


def window_postings(
    session: Session, keys: Iterable[str], since: datetime, until: datetime
) -> list[Posting]:
    """Each article dated between `since` and `until` that carries some of these keys.

    The keys' tokens in the cell of the window's middle find them (the window spans at
    most CELL); their evidence lines tell which keys each carries, and a token shared by
    chance nothing.
    """
    if until - since > CELL:
        raise ValueError(f"a window of {until - since} is wider than the index's cells")
    asked = set(keys)
    if not asked:
        return []
    cell, _ = time_cells(since + (until - since) / 2)
    tokens = [evidence_token(cell, key) for key in asked]
    rows = session.execute(
        select(StoryIndex.article_id, StoryIndex.story_id, StoryIndex.evidence).where(
            _sharing(session, tokens), StoryIndex.dated_at >= since, StoryIndex.dated_at <= until
        )
    ).all()
    found = []
    for article_id, story_id, evidence in rows:
        carried = evidence.split("\n")
        shared = asked.intersection(carried)
        if shared:
            found.append(Posting(article_id, story_id, frozenset(shared), len(carried)))
    return found


def archive_spread(session: Session, keys: Iterable[str]) -> dict[str, int]:
    """For each of these keys seen in more than one story: in how many stories it was counted."""
    return dict(
        session.execute(
            select(EvidenceCount.key, EvidenceCount.stories).where(
                EvidenceCount.key.in_(list(keys))
            )
        ).all()
    )


def index(
    session: Session,
    article_id: int,
    story_id: int,
    fingerprint: items.Fingerprint,
    dated_at: datetime,
    *,
    counted: Mapping[str, int] | None = None,
) -> None:
    """Record the article's band and evidence keys in one row, so later articles find it.

    `counted` maps the evidence keys new to the story that other stories carried before
    to how many stories of the lookup's window carried them: each adds one to its count
    of stories in evidence_counts (a key without a row starts from the window's count).
    """
    keys = list(dict.fromkeys(key for key, _ in fingerprint.evidence))
    tokens = list(dict.fromkeys(fingerprint.bands)) + evidence_tokens(dated_at, keys)
    # Core insert, not the ORM unit of work: the hot path of every stored article.
    session.connection().execute(
        insert(StoryIndex.__table__),
        {
            "article_id": article_id,
            "story_id": story_id,
            "dated_at": dated_at,
            "tokens": tokens,
            "evidence": "\n".join(keys),
        },
    )
    fresh = sorted(set(counted or {}) & set(keys))
    if fresh:
        upsert = dialect.insert(session, EvidenceCount).on_conflict_do_update(
            index_elements=["key"], set_={"stories": EvidenceCount.stories + 1}
        )
        # sorted, so concurrent writers lock shared rows in one order and never deadlock
        session.execute(upsert, [{"key": key, "stories": 1 + counted[key]} for key in fresh])


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
