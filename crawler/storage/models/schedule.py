"""Per-source schedule state: when to poll next, how often, and the health last assessed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crawler.storage.models.base import Base, UTCDateTime


class SourceSchedule(Base):
    """One row per source the service has polled; kept across restarts."""

    __tablename__ = "source_schedule"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    # None until the service first decides (a crawl may create the row, see Retry-After)
    interval_seconds: Mapped[float | None] = mapped_column(Float)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_new_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures_in_row: Mapped[int] = mapped_column(Integer, default=0)
    # written by the crawl that met a 429/503 with Retry-After: no poll before this
    retry_after_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # ok | failing | quiet | degraded
    health: Mapped[str] = mapped_column(String(20), default="ok")
    health_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    health_detail: Mapped[str | None] = mapped_column(Text)
    # the state last announced on the admin channel (a change is announced once)
    announced: Mapped[str] = mapped_column(String(20), default="ok")
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
