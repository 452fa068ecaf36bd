"""Later versions of a stored article, seen when a matched article is fetched again.

The article row is version 1, as first stored; each material change seen afterwards (an
edit of the headline, the body, the date or the author; a removal; a redirect elsewhere)
adds a row numbered 2, 3, … Rows are compared by content hash, so an unchanged page adds
nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crawler.storage.models.base import Base, UTCDateTime, utcnow


class ArticleVersion(Base):
    __tablename__ = "article_versions"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 2, 3, …: the article row is version 1
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    change: Mapped[str] = mapped_column(String(12))  # edited | removed | redirected
    # which fields differ from the previous version: "title,text,published_at,author"
    changed: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[int | None] = mapped_column(Integer)  # the HTTP status of the re-fetch
    final_url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    text: Mapped[str | None] = mapped_column(Text)  # None when removed
    content_hash: Mapped[str] = mapped_column(String(64))


class ArticleWatch(Base):
    """When a matched article is fetched again next, and what its last re-fetch said.

    A row appears when a source's run first finds the article matched; next_check_at is
    None once the re-check schedule ([crawl] recheck_after) is done.
    """

    __tablename__ = "article_watch"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), primary_key=True)
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    checks_done: Mapped[int] = mapped_column(Integer, default=0)
    # failed tries of the current check, which follow [crawl] retry_schedule
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # validators of the last re-fetch, for a conditional GET
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)  # why the last re-fetch failed
