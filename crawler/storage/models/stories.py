"""Story indexes: one row per article (band keys, evidence, its tokens), and key counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

from crawler.storage.models.base import Base, UTCDateTime


class Tokens(TypeDecorator[list[int]]):
    """Signed 63-bit integers: a BIGINT[] on PostgreSQL, space-separated decimals on SQLite.

    Each backend has its own inverted index over them (see migration 0010): a GIN index
    on PostgreSQL, an FTS5 table whose tokens are the decimals on SQLite.
    """

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(BigInteger()))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value, dialect: Dialect):
        if value is None:
            return None
        return list(value) if dialect.name == "postgresql" else " ".join(map(str, value))

    def process_result_value(self, value, dialect: Dialect):
        if value is None:
            return None
        return list(value) if dialect.name == "postgresql" else [int(t) for t in value.split()]


class StoryIndex(Base):
    """What later articles look an article up by, in one row.

    `tokens` holds its MinHash band keys (crawler.dedupe.band_keys) followed by two tokens
    per evidence key, one per cell of time (crawler.storage.stories.evidence_tokens), so
    one inverted index answers both "which articles share a band" and "which articles of
    these days carry these keys"; the cells keep the second flat as the archive grows.
    `evidence` is the article's evidence keys, one a line, in their order: candidates
    are assessed on it without a row per key. story_id and dated_at repeat the
    article's own; an article never changes story, so they stay true.
    """

    __tablename__ = "story_index"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id"), primary_key=True, autoincrement=False
    )
    story_id: Mapped[int] = mapped_column(Integer)
    dated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    tokens: Mapped[list[int]] = mapped_column(Tokens)
    evidence: Mapped[str] = mapped_column(Text)


class EvidenceCount(Base):
    """In how many stories a key was seen: the archive's common words drop out by it.

    A key gets a row once a second story carries it (a key of one story is never
    common), counting the stories of the lookup's window that carried it before; then
    one more each time it first appears in another story. Approximate: a key met again
    only outside the windows of its earlier stories is not counted, and a key of a
    story's member outside the lookup's window may be counted twice. So a big story does
    not make its own names look common.
    """

    __tablename__ = "evidence_counts"

    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    stories: Mapped[int] = mapped_column(Integer, default=0)
