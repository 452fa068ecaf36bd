"""WebSub subscriptions: a hub a source's feed advertised, and where subscribing to it stands."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crawler.storage.models.base import Base, UTCDateTime, utcnow


class WebSubSubscription(Base):
    """One (source, topic, hub): written by the crawl that reads the feed, run by the service."""

    __tablename__ = "websub_subscriptions"
    __table_args__ = (UniqueConstraint("source_id", "topic_url", "hub_url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    feed_url: Mapped[str] = mapped_column(Text)  # the feed that advertised the hub
    topic_url: Mapped[str] = mapped_column(Text)  # its rel=self, else the feed's URL
    hub_url: Mapped[str] = mapped_column(Text)
    # new | requested | active | denied | failed | unsubscribing
    state: Mapped[str] = mapped_column(String(16), default="new")
    # the last segment of the callback URL, and the HMAC key of the distributions; both
    # random per subscription, set on the first request
    token: Mapped[str | None] = mapped_column(String(64), unique=True)
    secret: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # when the service acts next: subscribe, renew, retry or give up waiting for the hub
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
