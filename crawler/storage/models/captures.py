"""The page each stored article came from, as served: evidence of what an outlet published."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crawler.storage.models.base import Base, UTCDateTime


class PageCapture(Base):
    """One article's page: body (compressed), headers, status, URLs, fetch time, extractor.

    Written with the article in one transaction; removed by retention (crawler.storage.
    captures.prune), never changed.
    """

    __tablename__ = "page_captures"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), unique=True)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    requested_url: Mapped[str] = mapped_column(Text)  # the link as published
    final_url: Mapped[str] = mapped_column(Text)  # after redirects
    status: Mapped[int] = mapped_column(Integer)
    headers: Mapped[list] = mapped_column(JSON)  # [[name, value], ...] in the order received
    compression: Mapped[str] = mapped_column(String(10))  # of `body`: "zlib"
    body: Mapped[bytes] = mapped_column(LargeBinary)
    body_sha256: Mapped[str] = mapped_column(String(64))  # of the uncompressed body
    body_size: Mapped[int] = mapped_column(Integer)  # uncompressed bytes
    extractor: Mapped[str] = mapped_column(String(100))  # e.g. "trafilatura 2.3.1 (newswatch …)"
