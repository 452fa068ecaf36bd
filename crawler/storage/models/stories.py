"""Story indexes: MinHash band keys (near-duplicates), evidence keys (same event), key counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crawler.storage.models.base import Base, UTCDateTime


class ArticleBand(Base):
    """One band key of an article's MinHash signature (crawler.dedupe.band_keys).

    The primary key starts with the key, so a lookup is one index probe per band however
    large the archive grows.
    """

    __tablename__ = "article_bands"

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), primary_key=True)


class ArticleEvidence(Base):
    """One piece of evidence (crawler.evidence) an article carries, dated like the article.

    story_id and dated_at repeat the article's own, so a lookup counts stories per key in a
    time window from this index alone; an article never changes story, so they stay true.
    """

    __tablename__ = "article_evidence"
    # Covering: a lookup reads counts and postings from the index alone, never the table.
    __table_args__ = (
        Index("ix_article_evidence_key_dated", "key", "dated_at", "story_id", "article_id"),
    )

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    story_id: Mapped[int] = mapped_column(Integer)
    dated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EvidenceCount(Base):
    """In how many stories a key was seen: the archive's common words drop out by it.

    Counted when the key first appears in a story (approximately: a key of a story's member
    outside the lookup's window may be counted twice), so a big story does not make its own
    names look common.
    """

    __tablename__ = "evidence_counts"

    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    stories: Mapped[int] = mapped_column(Integer, default=0)
