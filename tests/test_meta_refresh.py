"""The meta-refresh redirect reads the start of a page only, and still redirects."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler.middlewares.meta_refresh import HEAD_BYTES, HeadMetaRefreshMiddleware
from crawler.settings import DOWNLOADER_MIDDLEWARES

BODY = "<p>" + "Coopération policière entre la Belgique et le Maroc. " * 2000 + "</p>"


def page(head: str, url: str = "https://news.example/a") -> HtmlResponse:
    html = f"<html><head><meta charset='utf-8'>{head}</head><body>{BODY}</body></html>"
    return HtmlResponse(url, body=html.encode(), request=Request(url))


@pytest.fixture
def middleware() -> HeadMetaRefreshMiddleware:
    return HeadMetaRefreshMiddleware.from_crawler(get_crawler())


def test_a_page_without_refresh_is_passed_on_undecoded(middleware):
    response = page("<title>Coopération</title>")
    assert len(response.body) > 6 * HEAD_BYTES
    assert middleware.process_response(response.request, response) is response
    assert getattr(response, "_cached_ubody", None) is None  # Scrapy's would have decoded it


@pytest.mark.parametrize("delay", ["0", "2"])
def test_a_refresh_in_the_head_of_a_large_page_still_redirects(middleware, delay):
    response = page(f"<meta http-equiv='refresh' content='{delay}; url=/b'>")
    redirected = middleware.process_response(response.request, response)
    assert isinstance(redirected, Request)
    assert redirected.url == "https://news.example/b"


def test_a_long_delay_is_not_a_redirect(middleware):
    response = page("<meta http-equiv='refresh' content='600; url=/b'>")
    assert middleware.process_response(response.request, response) is response


def test_the_crawl_uses_it_instead_of_scrapys():
    assert (
        DOWNLOADER_MIDDLEWARES["scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware"]
        is None
    )
    assert "crawler.middlewares.meta_refresh.HeadMetaRefreshMiddleware" in DOWNLOADER_MIDDLEWARES
