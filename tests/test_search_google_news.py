"""Google News RSS search: items read into outlet links with their title, date and outlet."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from crawler.search import MalformedResults, read_results, result_urls, wrapped
from crawler.search.google_news import decoded_link

RESULTS_URL = "https://news.google.com/rss/search?q=Maroc+Belgique&hl=fr&gl=BE&ceid=BE:fr"
# An older article id: base64 of a protobuf message whose field 4 is the outlet's address
# (this one is from a public bug report about Google News links).
OLD_ID = (
    "CBMiUWh0dHBzOi8vd3d3Lndhc2hpbmd0b25wb3N0LmNvbS93b3JsZC8yMDIzLzAxLzAzL2dlb3JnZS1zYW50b3Mt"
    "YnJhemlsLWNoZWNrLWZyYXVkL9IBAA"
)
# A newer one: field 4 is an opaque token (AU_yqL…), resolvable only by Google.
NEW_ID = (
    "CBMigwFBVV95cUxNSTdJdTY3SnlJSDJkLVNQN2NWZzVId3lJQzl4Q194OVJUcVB5Snlwa1dVUmpXaEYzbGdiZVBl"
    "VmRvdVEtcVM1c3JCYW95QXRxc1pGRzhYcTJ4S2k1bGxwY19TYS0tUkxqY2YyaE5PMHlUMV9Na3VHWmdoVHpPQWtn"
    "b1hfMA"
)


def article_id(url: str) -> str:
    """An older-style id for `url`, built the way Google built them."""
    encoded = url.encode()
    message = b"\x08\x13\x22" + bytes([len(encoded)]) + encoded + b"\xd2\x01\x00"
    return base64.urlsafe_b64encode(message).decode().rstrip("=")


def rss(items: str, language: str = "fr") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>
<generator>NFE/5.0</generator>
<title>"Maroc" "Belgique" - Google Actualités</title>
<link>https://news.google.com/search?q=Maroc+Belgique&amp;hl=fr&amp;gl=BE&amp;ceid=BE:fr</link>
<language>{language}</language>
<webMaster>news-webmaster@google.com</webMaster>
<copyright>© 2025 Google LLC</copyright>
<lastBuildDate>Mon, 03 Mar 2025 10:00:00 GMT</lastBuildDate>
<description>Google Actualités</description>
{items}
</channel></rss>""".encode()


def item(link: str, title: str, outlet: str, home: str, date: str) -> str:
    return f"""<item><title>{title} - {outlet}</title>
<link>{link}</link>
<guid isPermaLink="false">{link.rsplit("/", 1)[-1]}</guid>
<pubDate>{date}</pubDate>
<description>&lt;a href="{link}" target="_blank"&gt;{title}&lt;/a&gt;&amp;nbsp;&amp;nbsp;\
&lt;font color="#6f6f6f"&gt;{outlet}&lt;/font&gt;</description>
<source url="{home}">{outlet}</source></item>"""


def test_items_become_links_with_title_date_language_and_outlet():
    wrapped_link = f"https://news.google.com/rss/articles/{NEW_ID}?oc=5"
    body = rss(
        item(
            wrapped_link,
            "Extradition vers le Maroc : accord signé",
            "Le Soir",
            "https://www.lesoir.be",
            "Mon, 03 Mar 2025 08:15:00 GMT",
        )
        + item(
            f"https://news.google.com/rss/articles/{article_id('https://www.rtbf.be/a/1')}?oc=5",
            "Coopération policière « renforcée »",
            "RTBF",
            "https://www.rtbf.be",
            "Sun, 02 Mar 2025 21:00:00 +0100",
        )
    )
    links = read_results("google_news", body, RESULTS_URL)
    assert [link.url for link in links] == [wrapped_link, "https://www.rtbf.be/a/1"]
    first, second = (link.hints for link in links)
    assert first.title == "Extradition vers le Maroc : accord signé"
    assert first.site_name == "Le Soir"
    assert first.language == "fr"
    assert first.published_at == datetime(2025, 3, 3, 8, 15, tzinfo=UTC)
    assert second.title == "Coopération policière « renforcée »"
    assert second.site_name == "RTBF"
    assert second.published_at == datetime(2025, 3, 2, 20, 0, tzinfo=UTC)


def test_arabic_results_keep_their_text():
    link = f"https://news.google.com/rss/articles/{NEW_ID}"
    body = rss(
        item(
            link,
            "تعاون أمني بين المغرب وبلجيكا",
            "هسبريس",
            "https://www.hespress.com",
            "Mon, 03 Mar 2025 08:15:00 GMT",
        ),
        language="ar",
    )
    (result,) = read_results("google_news", body, RESULTS_URL)
    assert result.hints.title == "تعاون أمني بين المغرب وبلجيكا"
    assert result.hints.site_name == "هسبريس"
    assert result.hints.language == "ar"


def test_language_comes_from_the_request_when_the_channel_has_none():
    date = "Mon, 03 Mar 2025 08:15:00 GMT"
    link = f"https://news.google.com/rss/articles/{NEW_ID}"
    body = rss(item(link, "Titel", "VRT NWS", "https://www.vrt.be", date), language="")
    url = "https://news.google.com/rss/search?q=Marokko&hl=nl&gl=BE&ceid=BE:nl"
    (result,) = read_results("google_news", body, url)
    assert result.hints.language == "nl"


def test_a_title_is_only_trimmed_of_its_own_outlet():
    body = rss("""<item><title>Accord - un pas de plus</title>
<link>https://news.google.com/rss/articles/X</link><source url="https://x.be">Le Vif</source>
</item>""")
    (result,) = read_results("google_news", body, RESULTS_URL)
    assert result.hints.title == "Accord - un pas de plus"


def test_no_results_is_an_empty_list():
    assert read_results("google_news", rss(""), RESULTS_URL) == []


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"", "did not answer with RSS: an empty body"),
        (b"Too Many Requests", "did not answer with RSS: 'Too Many Requests'"),
        (
            b"<!DOCTYPE html><html><head><title>Before you continue to Google</title></head>"
            b"<body><form action='https://consent.google.com/save'></form></body></html>",
            "did not answer with RSS: 'Before you continue to Google'",
        ),
        (
            b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>cut',
            "answered with broken RSS",
        ),
        (b'{"error": "not rss"}', "did not answer with RSS"),
    ],
)
def test_anything_but_rss_is_malformed(body, says):
    with pytest.raises(MalformedResults, match="Google News") as caught:
        read_results("google_news", body, RESULTS_URL)
    assert says in str(caught.value)


def test_older_article_ids_are_read_without_a_request():
    assert decoded_link(f"https://news.google.com/rss/articles/{OLD_ID}?oc=5") == (
        "https://www.washingtonpost.com/world/2023/01/03/george-santos-brazil-check-fraud/"
    )
    assert decoded_link(f"https://news.google.com/rss/articles/{NEW_ID}?oc=5") is None
    assert decoded_link("https://news.google.com/rss/articles/%%%") is None
    assert decoded_link(f"https://elsewhere.example/rss/articles/{OLD_ID}") is None
    not_a_web_address = article_id("javascript:alert(1)")
    assert decoded_link(f"https://news.google.com/rss/articles/{not_a_web_address}") is None


def test_google_pages_are_wrapped_outlets_are_not():
    assert wrapped("google_news", f"https://news.google.com/rss/articles/{NEW_ID}?oc=5")
    assert wrapped("google_news", "https://consent.google.com/ml?continue=https://news.google.com")
    assert wrapped("google_news", "https://www.google.com/sorry/index?continue=x")
    assert not wrapped("google_news", "https://www.lesoir.be/561234/article/extradition")
    assert not wrapped("google_news", "https://notgoogle.com/news")


@pytest.mark.parametrize(
    ("language", "region", "expected"),
    [
        ("fr", "BE", "hl=fr&gl=BE&ceid=BE:fr"),
        ("nl", "be", "hl=nl&gl=BE&ceid=BE:nl"),
        ("fr-BE", None, "hl=fr&gl=FR&ceid=FR:fr"),
        ("ar", "MA", "hl=ar&gl=MA&ceid=MA:ar"),
        ("ar", None, "hl=ar&gl=EG&ceid=EG:ar"),
        ("en", None, "hl=en&gl=US&ceid=US:en"),
    ],
)
def test_the_edition_follows_language_and_region(language, region, expected):
    (url,) = result_urls("google_news", "Maroc Belgique", language, region)
    assert url == f"https://news.google.com/rss/search?q=Maroc+Belgique&{expected}"


def test_without_language_google_chooses_the_edition():
    (url,) = result_urls("google_news", "Maroc", None, None)
    assert url == "https://news.google.com/rss/search?q=Maroc"
