"""Alert state: the watermarks, matches (one per rule and story), deliveries, attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from crawler.storage.models.base import Base, UTCDateTime, utcnow


class AlertState(Base):
    """One row: the highest article id matched and the highest article version looked at."""

    __tablename__ = "alert_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_article_id: Mapped[int] = mapped_column(Integer, default=0)
    # None until edits are first looked at: then it starts at the backfill horizon, so a
    # database full of old versions does not alert on all of them at once
    last_version_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertGap(Base):
    """An article id below the watermark that was not visible yet when the watermark passed it.

    On PostgreSQL ids are handed out before commit, so a slow transaction can commit id 7
    after id 8 was matched; gaps are looked at again on every run until they appear or
    expire (an id burnt by a rolled-back insert never appears).
    """

    __tablename__ = "alert_gaps"

    article_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    noticed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertMatch(Base):
    """A rule matched a story; the unique constraint is what makes it one alert per story."""

    __tablename__ = "alert_matches"
    __table_args__ = (UniqueConstraint("rule", "story_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(200))
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id"), index=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    query: Mapped[str] = mapped_column(Text)
    # why it matched and what to show, computed once so delivery needs no rule
    terms: Mapped[list] = mapped_column(JSON, default=list)
    snippets: Mapped[list] = mapped_column(JSON, default=list)
    title_highlights: Mapped[list] = mapped_column(JSON, default=list)
    matched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


_NEW_ARTICLE = text("version_id IS NULL")


class AlertDelivery(Base):
    """One match, or one later version of its article, to one channel: pending until sent, or dead.

    A match goes once to each channel (the partial unique index); an edit of the matched
    article goes once per version to each channel (the unique constraint: NULL version ids,
    the new-article deliveries, never collide in it).
    """

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        Index(
            "uq_alert_deliveries_match_channel",
            "match_id",
            "channel",
            unique=True,
            sqlite_where=_NEW_ARTICLE,
            postgresql_where=_NEW_ARTICLE,
        ),
        UniqueConstraint("version_id", "match_id", "channel"),
        Index("ix_alert_deliveries_state_next", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("alert_matches.id"))
    # the later version of the matched article this delivery tells of; None: the match itself
    version_id: Mapped[int | None] = mapped_column(ForeignKey("article_versions.id"), index=True)
    rule: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(10))  # instant | hourly | daily
    # pending | sent | dead
    state: Mapped[str] = mapped_column(String(10), default="pending")
    # instant: the match time; digests: the end of the period the match belongs to
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # a dispatcher owns the row until then; a crashed one's claim simply runs out
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # who claimed it ("host:pid:start:scope", alerts.claims): a process starting on the
    # same host takes back at once the claims of one that no longer runs
    claimed_by: Mapped[str | None] = mapped_column(String(160))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # stable across retries, so receivers can de-duplicate (webhook-id, Message-ID)
    message_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # when the current series of attempts began (creation, or the last manual retry)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class AlertAttempt(Base):
    """One try to deliver, whatever came of it."""

    __tablename__ = "alert_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("alert_deliveries.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # sent | retry | dead
    outcome: Mapped[str] = mapped_column(String(10))
    detail: Mapped[str] = mapped_column(Text, default="")
