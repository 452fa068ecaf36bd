"""crawler.search: the providers, their request addresses, rate limits, and dispatch."""

from __future__ import annotations

import pytest

from crawler.search import (
    PROVIDERS,
    RATE_LIMITS,
    LocaleError,
    MalformedResults,
    read_results,
    result_urls,
    wrapped,
)
from crawler.settings import scrapy_settings
from crawler.sources import CrawlOptions


def test_providers_and_their_rate_limits():
    assert PROVIDERS == ("google_news", "bing_news", "gdelt")
    assert RATE_LIMITS["api.gdeltproject.org"] >= 5.0  # GDELT: one request per 5 s
    assert set(RATE_LIMITS) == {"news.google.com", "www.bing.com", "api.gdeltproject.org"}
    for provider in PROVIDERS:
        (url,) = result_urls(provider, "Maroc", "fr", "BE")
        assert url.split("/")[2] in RATE_LIMITS, f"{provider} asks a host without a rate limit"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_endpoint_replaces_the_base_url_and_keeps_the_query(provider):
    (default,) = result_urls(provider, "Maroc Belgique", "fr", "BE")
    (local,) = result_urls(provider, "Maroc Belgique", "fr", "BE", "http://127.0.0.1:8123/x/y")
    assert local.startswith("http://127.0.0.1:8123/x/y?")
    assert local.split("?", 1)[1] == default.split("?", 1)[1]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_non_ascii_queries_are_percent_encoded_utf8(provider):
    (url,) = result_urls(provider, "België", "nl", "BE")
    assert "Belgi%C3%AB" in url
    assert url.isascii()


@pytest.mark.parametrize(
    ("args", "key", "says"),
    [
        (("yahoo", "Maroc", None, None), "provider", "must be one of google_news, bing_news"),
        (("gdelt", "  ", None, None), "query", "must not be empty"),
        (("bing_news", "Maroc", "french", None), "language", "language code"),
        (("bing_news", "Maroc", "fr", "Belgium"), "region", "two-letter country code"),
        (("google_news", "Maroc", None, "BE"), "language", "needs a language with a region"),
    ],
)
def test_what_a_provider_cannot_express_is_refused_with_its_key(args, key, says):
    with pytest.raises(LocaleError, match=says) as caught:
        result_urls(*args)
    assert caught.value.key == key
    assert isinstance(caught.value, ValueError)


def test_read_results_dispatches_and_raises_malformed_results():
    assert read_results("gdelt", b"{}", "https://api.gdeltproject.org/api/v2/doc/doc") == []
    with pytest.raises(MalformedResults):
        read_results("bing_news", b"<html></html>", "https://www.bing.com/news/search")
    assert issubclass(MalformedResults, ValueError)
    with pytest.raises(ValueError, match="yahoo"):
        read_results("yahoo", b"", "https://example.org/")


def test_a_stand_in_endpoint_counts_as_the_providers_own():
    endpoint = "http://127.0.0.1:8123/rss/search?q=x"
    assert wrapped("google_news", "http://127.0.0.1:8123/rss/articles/abc", endpoint)
    assert not wrapped("google_news", "http://127.0.0.1:9000/outlet/a", endpoint)
    assert not wrapped("google_news", "http://127.0.0.1:9000/outlet/a")
    assert wrapped("google_news", "https://news.google.com/rss/articles/abc", endpoint)


def test_crawl_settings_give_each_provider_host_one_slot_at_its_rate():
    slots = scrapy_settings(CrawlOptions())["DOWNLOAD_SLOTS"]
    for host, delay in RATE_LIMITS.items():
        assert slots[host] == {"delay": delay, "concurrency": 1, "jitter": 0.0}


def test_extra_scrapy_settings_still_override():
    options = CrawlOptions(
        extra_scrapy_settings={
            "DOWNLOAD_SLOTS": {"example.org": {"delay": 2.0}, "www.bing.com": {"delay": 9.0}},
            "CONCURRENT_REQUESTS": 3,
        }
    )
    settings = scrapy_settings(options)
    assert settings["CONCURRENT_REQUESTS"] == 3
    assert settings["DOWNLOAD_SLOTS"]["example.org"] == {"delay": 2.0}
    assert settings["DOWNLOAD_SLOTS"]["www.bing.com"] == {"delay": 9.0}
    assert (
        settings["DOWNLOAD_SLOTS"]["api.gdeltproject.org"]["delay"]
        == RATE_LIMITS["api.gdeltproject.org"]
    )
