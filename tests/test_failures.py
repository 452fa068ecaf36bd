"""Download failures are named by cause, in words a person reading the log understands."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError

from crawler.failures import classify
from crawler.middlewares.private_addresses import PrivateAddressRefused

URL = "https://example.org/a.html"


@pytest.mark.parametrize(
    ("error", "reason", "words"),
    [
        (HttpError(Response(URL, status=503, request=Request(URL)), "x"), "http", "HTTP 503"),
        (DownloadTimeoutError("took longer than 20.0 seconds"), "timeout", "in time"),
        (
            CannotResolveHostError("no results for hostname lookup: example.org."),
            "dns",
            "cannot resolve host example.org",
        ),
        (DownloadConnectionRefusedError(), "connection", "refused"),
        (
            DownloadCancelledError(
                "Expected to receive 3162745 bytes which is larger than "
                "download max size (1000000) in request"
            ),
            "too_large",
            "3162745 bytes exceeds the 1000000-byte limit",
        ),
        (IgnoreRequest("Forbidden by robots.txt"), "robots", "robots.txt"),
        (IgnoreRequest("max redirections reached"), "redirect", "redirect loop"),
        (
            IgnoreRequest(
                "Ignored response <200 x> because its body (10 B compressed, 2 B "
                "decompressed) exceeded DOWNLOAD_MAXSIZE"
            ),
            "too_large",
            "bomb",
        ),
        (PrivateAddressRefused("refused x: 10.0.0.1"), "private_address", "10.0.0.1"),
        (RuntimeError("surprise"), "error", "RuntimeError: surprise"),
    ],
)
def test_classify(error, reason, words):
    got_reason, detail = classify(error)
    assert got_reason == reason
    assert words in detail
