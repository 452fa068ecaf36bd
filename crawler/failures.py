"""Name the cause of a failed download in words a person reading the log understands."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as twisted_errors

from crawler.middlewares.private_addresses import PrivateAddressRefused
from crawler.middlewares.robots import RobotsUnreachable

_HOST = re.compile(r"lookup: (\S+?)\.?$", re.M)
_SIZE = re.compile(r"(\d+) bytes which is larger than download max size \((\d+)\)")


def classify(error: BaseException) -> tuple[str, str]:
    """(reason, detail): a short category for filtering and a sentence for people."""
    if isinstance(error, HttpError):
        response = error.response
        return "http", f"HTTP {response.status}"
    if isinstance(error, PrivateAddressRefused):
        return "private_address", str(error)
    if isinstance(error, DownloadTimeoutError | twisted_errors.TimeoutError):
        return "timeout", f"no complete response in time ({_first_line(error)})"
    if isinstance(error, CannotResolveHostError | twisted_errors.DNSLookupError):
        host = _HOST.search(str(error))
        return "dns", f"cannot resolve host {host[1]}" if host else "cannot resolve host name"
    if isinstance(error, DownloadConnectionRefusedError | twisted_errors.ConnectionRefusedError):
        return "connection", "connection refused"
    if isinstance(error, DownloadCancelledError) or "max size" in str(error):
        size = _SIZE.search(str(error))
        if size:
            return "too_large", f"response of {size[1]} bytes exceeds the {size[2]}-byte limit"
        return "too_large", _first_line(error)
    if isinstance(error, RobotsUnreachable):
        return "robots_unreachable", str(error)
    if isinstance(error, IgnoreRequest):
        message = str(error)
        if "robots.txt" in message:
            return "robots", "forbidden by robots.txt"
        if "redirections" in message:
            return "redirect", "too many redirects (a redirect loop?)"
        if "DOWNLOAD_MAXSIZE" in message:
            return "too_large", "decompressed body exceeds the size limit (compression bomb?)"
        return "ignored", message or "request ignored"
    if isinstance(error, ResponseDataLossError | DownloadFailedError):
        return "connection", _first_line(error)
    return "error", f"{error.__class__.__name__}: {_first_line(error)}"


# Refusals by policy (the site's robots.txt, our private-address guard): recorded with
# their cause, counted as skipped rather than as failures of the source, and decided
# afresh whenever a feed lists the link again (the policy may have changed).
SKIP_REASONS = frozenset({"robots", "private_address"})
# Causes that may be gone on a later run; any other failure of an article is for good
# (404, 410, not HTML, too large, a redirect loop, refused by robots.txt or the guard).
TRANSIENT_REASONS = frozenset({"timeout", "dns", "connection", "error", "robots_unreachable"})
TRANSIENT_STATUSES = frozenset({408, 425, 429})


def is_transient(reason: str, status: int | None = None) -> bool:
    """Whether an article that failed this way is worth trying again on a later run."""
    if reason == "http":
        return status is not None and (status >= 500 or status in TRANSIENT_STATUSES)
    return reason in TRANSIENT_REASONS


def next_attempt(
    attempts: int, transient: bool, now: datetime, schedule: tuple[float, ...]
) -> datetime | None:
    """When to try a link again after its `attempts`-th failure; None: give it up."""
    if not transient or attempts > len(schedule):
        return None
    return now + timedelta(seconds=schedule[attempts - 1])


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:300] if text else error.__class__.__name__


def retry_after_until(value: str | None, now: datetime) -> datetime | None:
    """When a Retry-After header (seconds or an HTTP date, RFC 9110) lets us come back."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when, now) if when.tzinfo else None
