"""Crawl state: sources, their runs, recorded failures and conditional-GET validators."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crawler.storage.models.base import Base, UTCDateTime, utcnow


class Source(Base):
    """A configured source as last seen; the config file stays the truth for its settings."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(12))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CrawlRun(Base):
    """One crawl of one source: what it fetched, stored and failed, and how long it took."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # running | ok | not_modified | partial | failed
    status: Mapped[str] = mapped_column(String(20), default="running")
    http_status: Mapped[int | None] = mapped_column(Integer)
    links: Mapped[int] = mapped_column(Integer, default=0)
    fetched: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)  # refused by robots.txt, ...
    # links of the source waiting when the run ended: over the per-run cap, or to retry
    waiting: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)


class Failure(Base):
    """A URL that could not be fetched, parsed or extracted, and why."""

    __tablename__ = "failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    # a short category (http, timeout, too_large, extraction, robots, ...) for filtering
    reason: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FetchState(Base):
    """Validators of a feed or sitemap URL, so the next fetch can be conditional."""

    __tablename__ = "fetch_state"

    url: Mapped[str] = mapped_column(Text, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BacklogLink(Base):
    """A published link not stored yet and not forgotten (crawler.backlog).

    waiting: over a run's cap, fetched first next run; retry: failed transiently, tried
    again at next_attempt_at; gave_up: failed for good, kept with its cause so it is
    neither requested again nor lost from view.
    """

    __tablename__ = "link_backlog"
    __table_args__ = (Index("ix_link_backlog_due", "source_id", "state", "next_attempt_at"),)

    key: Mapped[str] = mapped_column(Text, primary_key=True)  # canonical URL of the link
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    url: Mapped[str] = mapped_column(Text)  # as published: what is requested
    hints: Mapped[dict] = mapped_column(JSON, default=dict)  # what the feed said of it
    state: Mapped[str] = mapped_column(String(10))  # waiting | retry | gave_up
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(Text)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RobotsFile(Base):
    """A site's robots.txt as last read, shared by every crawl process (crawler.robots)."""

    __tablename__ = "robots_files"

    origin: Mapped[str] = mapped_column(Text, primary_key=True)  # scheme://host[:port]
    # the last readable answer (2xx: its body; 4xx: none, everything allowed)
    status: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # read again after this; until then every process uses the stored answer
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # why the last attempt gave no readable answer (5xx, timeout), if it did not
    error: Mapped[str | None] = mapped_column(Text)
    # one process fetches it at a time; the others wait for its answer until then
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(80))


class LinkSighting(Base):
    """A way of finding articles (feed, sitemap, listing, search) listed this link.

    What `newswatch coverage` counts: which way saw which article, which saw it alone,
    and what was found but not stored.
    """

    __tablename__ = "link_sightings"
    __table_args__ = (Index("ix_link_sightings_seen", "first_seen_at"),)

    key: Mapped[str] = mapped_column(Text, primary_key=True)  # canonical URL of the link
    way: Mapped[str] = mapped_column(String(10), primary_key=True)  # feed|sitemap|listing|search
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))  # the first to list it
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SiteEndpoint(Base):
    """A feed or sitemap discovered for a `kind = "site"` source, remembered between runs."""

    __tablename__ = "site_endpoints"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    url: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # feed | sitemap
    how: Mapped[str] = mapped_column(Text)  # why it was a candidate ("link rel=alternate", ...)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # runs in a row it failed; past a few the site is discovered again
    failures_in_row: Mapped[int] = mapped_column(Integer, default=0)
