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
