"""GDELT DOC 2.0 ArtList JSON: articles read into links; empty and refused answers told apart."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from crawler.search import LocaleError, MalformedResults, read_results, result_urls, wrapped
from crawler.search.gdelt import seen_at

RESULTS_URL = "https://api.gdeltproject.org/api/v2/doc/doc?query=Maroc&mode=ArtList&format=json"


def answer(*articles: dict) -> bytes:
    return json.dumps({"articles": list(articles)}, ensure_ascii=False).encode()


def article(url: str, title: str, domain: str, language: str, country: str, seen: str) -> dict:
    return {
        "url": url,
        "url_mobile": "",
        "title": title,
        "seendate": seen,
        "socialimage": f"https://{domain}/image.jpg",
        "domain": domain,
        "language": language,
        "sourcecountry": country,
    }


def test_articles_become_links_with_title_date_language_and_outlet():
    body = answer(
        article(
            "https://www.lesoir.be/561234/article/extradition",
            "Extradition vers le Maroc",
            "lesoir.be",
            "French",
            "Belgium",
            "20250303T081500Z",
        ),
        article(
            "https://www.hespress.com/politique/123.html",
            "تعاون أمني بين المغرب وبلجيكا",
            "hespress.com",
            "Arabic",
            "Morocco",
            "20250302T200000Z",
        ),
    )
    links = read_results("gdelt", body, RESULTS_URL)
    assert [link.url for link in links] == [
        "https://www.lesoir.be/561234/article/extradition",
        "https://www.hespress.com/politique/123.html",
    ]
    first, second = (link.hints for link in links)
    assert first.title == "Extradition vers le Maroc"
    assert first.site_name == "lesoir.be"
    assert first.language == "fr"
    assert first.published_at == datetime(2025, 3, 3, 8, 15, tzinfo=UTC)
    assert first.image_url == "https://lesoir.be/image.jpg"
    assert second.title == "تعاون أمني بين المغرب وبلجيكا"
    assert second.language == "ar"


def test_control_characters_in_titles_do_not_break_the_answer():
    body = b'{"articles": [{"url": "https://www.hln.be/a", "title": "Politie\x0b en\tjustitie",'
    body += b' "seendate": "20250303T081500Z", "domain": "hln.be", "language": "Dutch"}]}'
    (link,) = read_results("gdelt", body, RESULTS_URL)
    assert link.hints.title == "Politie en justitie"
    assert link.hints.language == "nl"


def test_unusable_articles_are_skipped():
    body = answer(
        {"title": "no url"},
        {"url": "javascript:alert(1)", "title": "not a web address"},
        article("https://www.vrt.be/a", "ok", "vrt.be", "Klingon", "Belgium", "garbage"),
    )
    (link,) = read_results("gdelt", body, RESULTS_URL)
    assert link.url == "https://www.vrt.be/a"
    assert link.hints.language is None
    assert link.hints.published_at is None


@pytest.mark.parametrize("body", [b"", b"  \n", b"{}", b'{"articles": []}'])
def test_nothing_matched_is_an_empty_list(body):
    assert read_results("gdelt", body, RESULTS_URL) == []


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (
            b"Please limit requests to one every 5 seconds or contact kalev.leetaru5@gmail.com "
            b"for larger queries.",
            "Please limit requests to one every 5 seconds",
        ),
        (
            b"Queries containing OR'd terms must be surrounded by ().",
            "Queries containing OR'd terms",
        ),
        (
            b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
            "502 Bad Gateway",
        ),
        (b'{"articles": [{"url": "https://x.be/a"', "did not answer with JSON"),
        (b'["https://x.be/a"]', "without an articles list"),
        (b'{"articles": "none"}', "without an articles list"),
    ],
)
def test_refusals_and_broken_answers_are_malformed(body, says):
    with pytest.raises(MalformedResults, match="GDELT") as caught:
        read_results("gdelt", body, RESULTS_URL)
    assert says in str(caught.value)


def test_seendate():
    assert seen_at("20250303T081500Z") == datetime(2025, 3, 3, 8, 15, tzinfo=UTC)
    assert seen_at("2025-03-03") is None
    assert seen_at(None) is None


def test_gdelt_links_are_the_outlets_own():
    assert not wrapped("gdelt", "https://www.lesoir.be/561234/article/extradition")
    assert wrapped("gdelt", "https://api.gdeltproject.org/api/v2/doc/doc?query=x")


def query_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["query"][0]


@pytest.mark.parametrize(
    ("language", "region", "filters"),
    [
        ("fr", "BE", " sourcelang:french sourcecountry:belgium"),
        ("nl", None, " sourcelang:dutch"),
        ("ar", "MA", " sourcelang:arabic sourcecountry:morocco"),
        (None, "GB", " sourcecountry:unitedkingdom"),
        (None, None, ""),
    ],
)
def test_language_and_region_become_query_filters(language, region, filters):
    (url,) = result_urls("gdelt", '"Maroc" AND police', language, region)
    assert query_of(url) == f'"Maroc" police{filters}'
    params = parse_qs(urlsplit(url).query)
    assert params["mode"] == ["ArtList"]
    assert params["format"] == ["json"]
    assert params["maxrecords"] == ["250"]
    assert url.startswith("https://api.gdeltproject.org/api/v2/doc/doc?")


def test_unknown_language_or_country_is_refused_with_its_key():
    with pytest.raises(LocaleError, match="GDELT does not know the language 'xx'") as caught:
        result_urls("gdelt", "Maroc", "xx", None)
    assert caught.value.key == "language"
    with pytest.raises(LocaleError, match="no GDELT country name known for 'ZZ'") as caught:
        result_urls("gdelt", "Maroc", None, "ZZ")
    assert caught.value.key == "region"
