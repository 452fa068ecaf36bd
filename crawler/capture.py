"""The page as the outlet served it: built from a fetched page, written as a WARC file.

A capture is evidence of what was published: the body bytes as fetched, the response
headers and status, the final URL and the fetch time, and the extractor that produced the
stored text. The WARC written here opens in standard web-archive tools (warcio, pywb).
"""

from __future__ import annotations

import functools
import hashlib
import http
import io
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version

from sqlalchemy.orm import sessionmaker
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from crawler import items
from crawler.storage import captures

log = logging.getLogger(__name__)

# What a response body no longer is once Scrapy has undone the content coding, and what a
# WARC reader would misread: their original values are kept as X-Archive-Orig-* headers.
STALE_HEADERS = ("content-encoding", "transfer-encoding", "content-length")
ORIGINAL_PREFIX = "X-Archive-Orig-"


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


@functools.cache
def extractor() -> str:
    """What produced the stored text: trafilatura, then newswatch's own cleaning
    (crawler.extract), both count. Looked up once, when first needed: reading package
    metadata takes some 20 ms, which every command importing this would pay."""
    return f"trafilatura {_version('trafilatura')} (newswatch {_version('newswatch')})"


def capture_from(page: items.ArticlePage, fetched_at: datetime) -> items.Capture:
    """The capture of a fetched page, as the crawl process keeps it (not sent to workers)."""
    return items.Capture(
        requested_url=page.link_url,
        final_url=page.final_url,
        status=page.status,
        headers=page.headers,
        body=page.body,
        fetched_at=fetched_at,
        extractor=extractor(),
    )


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True)
class Retention:
    """`[evidence]`: whose captures are kept, and for how long.

    keep: "matched" keeps the captures of articles in a story a rule matched (the others
    are removed once the alerts engine has passed them), "all" keeps every one, "none"
    stores no new capture (those kept already follow the rules of "matched"). A capture
    older than `max_age_seconds` is removed; None keeps captures forever.
    """

    keep: str = "matched"
    max_age_seconds: float | None = 365 * 86400.0


KEEP = ("matched", "all", "none")


def prune(
    session_factory: sessionmaker,
    retention: Retention,
    now: datetime | None = None,
    above: int = 0,
) -> captures.Pruned:
    """Apply `retention` once, after an alerts round (it decides what "matched" keeps);
    `above`: the previous prune's `settled`, where there was one."""
    now = now or datetime.now(UTC)
    older_than = None
    if retention.max_age_seconds is not None:
        older_than = now - timedelta(seconds=retention.max_age_seconds)
    with session_factory() as session:
        pruned = captures.prune(session, keep=retention.keep, older_than=older_than, above=above)
    if pruned.total:
        log.info(
            "evidence: removed %d page capture(s): %d past the retention period, "
            "%d of articles no rule matched",
            pruned.total,
            pruned.expired,
            pruned.unmatched,
        )
    return pruned


def warc_http_headers(status: int, headers: tuple[tuple[str, str], ...], size: int):
    """The HTTP headers of the response record: consistent with the stored body.

    The body was stored with its content coding undone, so Content-Encoding, Transfer-
    Encoding and the wire Content-Length would make readers misread it: they are renamed
    X-Archive-Orig-* (the convention of Heritrix and pywb), and Content-Length is the
    stored body's.
    """
    kept = []
    for name, value in headers:
        if name.lower() in STALE_HEADERS:
            kept.append((ORIGINAL_PREFIX + name, value))
        else:
            kept.append((name, value))
    kept.append(("Content-Length", str(size)))
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    return StatusAndHeaders(f"{status} {reason}", kept, protocol="HTTP/1.1")


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def metadata(evidence: captures.Evidence) -> dict[str, object]:
    """The evidence of one article as JSON: the article, its capture, its story's matches."""
    values: dict[str, object] = {
        "article_id": evidence.article_id,
        "source": evidence.source,
        "url": evidence.url,
        "title": evidence.title,
        "author": evidence.author,
        "published_at": _iso(evidence.published_at),
        "language": evidence.language,
        "story_id": evidence.story_id,
        "stored_at": _iso(evidence.stored_at),
        "matched_rules": [
            {"rule": m.rule, "matched_at": _iso(m.matched_at), "article_id": m.article_id}
            for m in evidence.matches
        ],
    }
    capture = evidence.capture
    if capture is not None:
        values.update(
            requested_url=capture.requested_url,
            final_url=capture.final_url,
            fetched_at=_iso(capture.fetched_at),
            status=capture.status,
            headers=[list(pair) for pair in capture.headers],
            body_sha256=sha256(capture.body),
            body_size=len(capture.body),
            body_note="as fetched, with the HTTP content coding (gzip, br) undone",
            extractor=capture.extractor,
        )
    return values


def warc_name(article_id: int) -> str:
    return f"article-{article_id}.warc.gz"


def warc_bytes(evidence: captures.Evidence) -> bytes:
    """A gzipped WARC file: warcinfo, the response (exact body), and a metadata record.

    The metadata record (application/json, concurrent to the response) says what the
    response cannot: the link requested before any redirect, the extractor, the SHA-256
    of the body, the article and its story's matches.
    """
    capture = evidence.capture
    if capture is None:
        raise ValueError(f"article {evidence.article_id} has no capture")
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    info = {
        "software": f"newswatch {_version('newswatch')} (warcio {_version('warcio')})",
        "format": "WARC File Format 1.1",
        "description": "A news article page as fetched, kept as evidence of what was published",
    }
    writer.write_record(writer.create_warcinfo_record(warc_name(evidence.article_id), info))
    date = datetime_to_iso_date(capture.fetched_at.astimezone(UTC).replace(tzinfo=None))
    response = writer.create_warc_record(
        capture.final_url,
        "response",
        payload=io.BytesIO(capture.body),
        length=len(capture.body),
        http_headers=warc_http_headers(capture.status, capture.headers, len(capture.body)),
        warc_headers_dict={"WARC-Date": date},
    )
    writer.write_record(response)
    payload = json.dumps(metadata(evidence), ensure_ascii=False, indent=2).encode("utf-8")
    details = writer.create_warc_record(
        capture.final_url,
        "metadata",
        payload=io.BytesIO(payload),
        length=len(payload),
        warc_content_type="application/json",
        warc_headers_dict={
            "WARC-Date": date,
            "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
        },
    )
    writer.write_record(details)
    return out.getvalue()
