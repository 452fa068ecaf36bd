"""Stored articles and the stories that group copies of one piece of news."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crawler.storage.models.base import Base, UTCDateTime, utcnow


class Story(Base):
    """One piece of news; every copy of it (syndicated, republished) is a member article."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Article(Base):
    """One article, stored once per canonical URL."""

    __tablename__ = "articles"
    __table_args__ = (Index("ix_articles_source_published", "source_id", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    # the canonical form of the link that led here, so that link is not fetched again
    # (it differs from url when the page names another canonical URL for itself)
    link_key: Mapped[str] = mapped_column(Text, index=True)
    # the link exactly as the feed, sitemap or listing published it: what was requested
    link_url: Mapped[str | None] = mapped_column(Text)  # None: stored before it was kept
    # where the page came from after redirects
    final_url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    language: Mapped[str | None] = mapped_column(String(12), index=True)
    text: Mapped[str] = mapped_column(Text)
    lead: Mapped[str | None] = mapped_column(Text)
    site_name: Mapped[str | None] = mapped_column(Text)
    image_url: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id"), index=True)
    # set when the same text was stored first under another URL
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"))
    # why the article is in its story, for people reviewing it ("first", "same text as #12")
    story_reason: Mapped[str] = mapped_column(Text, default="first")
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
