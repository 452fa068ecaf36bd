"""Bing News RSS search: apiclick.aspx links unwrapped to the outlet, News:Source as outlet."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from crawler.search import MalformedResults, read_results, result_urls, wrapped
from crawler.search.bing_news import unwrapped

RESULTS_URL = "https://www.bing.com/news/search?q=Marokko&format=rss&setlang=nl&mkt=nl-BE"


def apiclick(url: str) -> str:
    """Bing's click counter around an outlet's address, as its RSS links are written."""
    return (
        "http://www.bing.com/news/apiclick.aspx?ref=FexRss&amp;aid=&amp;tid=67C5A1B2"
        f"&amp;url={quote(url, safe='').lower()}&amp;c=123456789&amp;mkt=nl-be"
    )


def rss(items: str, namespace: bool = True) -> bytes:
    declaration = (
        ' xmlns:News="https://www.bing.com:443/news/search?q=Marokko&amp;format=rss"'
        if namespace
        else ""
    )
    return f"""<?xml version="1.0" encoding="utf-8" ?>
<rss version="2.0"{declaration}><channel>
<title>Marokko - BingNews</title>
<link>https://www.bing.com/news/search?q=Marokko&amp;format=rss</link>
<description>Search results</description>
<image><url>http://www.bing.com/s/a/rsslogo.gif</url><title>Marokko</title>
<link>https://www.bing.com/news/search?q=Marokko&amp;format=rss</link></image>
<copyright>Copyright © 2025 Microsoft. All rights reserved.</copyright>
{items}
</channel></rss>""".encode()


def item(link: str, title: str, outlet: str, date: str, summary: str = "") -> str:
    return f"""<item><title>{title}</title><link>{link}</link>
<description>{summary}</description><pubDate>{date}</pubDate>
<News:Source>{outlet}</News:Source>
<News:Image>http://www.bing.com/th?id=OVFT.abc&amp;pid=News</News:Image></item>"""


def test_click_counter_links_become_the_outlets_addresses():
    body = rss(
        item(
            apiclick("https://www.vrt.be/vrtnws/nl/2025/03/03/marokko-politie/"),
            "Politie werkt samen met Marokko",
            "VRT NWS",
            "Mon, 03 Mar 2025 08:15:00 GMT",
            "De federale politie en haar &lt;b&gt;Marokkaanse&lt;/b&gt; collega's ...",
        )
        + item(
            apiclick("https://www.hln.be/binnenland/uitlevering~a1b2/?referrer=x&id=4"),
            "Uitlevering aan België",
            "HLN",
            "Sun, 02 Mar 2025 21:00:00 GMT",
        )
    )
    links = read_results("bing_news", body, RESULTS_URL)
    assert [link.url for link in links] == [
        "https://www.vrt.be/vrtnws/nl/2025/03/03/marokko-politie/",
        "https://www.hln.be/binnenland/uitlevering~a1b2/?referrer=x&id=4",
    ]
    first = links[0].hints
    assert first.title == "Politie werkt samen met Marokko"
    assert first.site_name == "VRT NWS"
    assert first.summary == "De federale politie en haar Marokkaanse collega's ..."
    assert first.published_at == datetime(2025, 3, 3, 8, 15, tzinfo=UTC)
    assert first.language == "nl"
    assert first.image_url == "http://www.bing.com/th?id=OVFT.abc&pid=News"
    assert links[1].hints.site_name == "HLN"


def test_non_ascii_titles_outlets_and_addresses():
    outlet_url = "https://www.lesoir.be/561234/article/coopération-sécurité"
    body = rss(
        item(
            apiclick(outlet_url),
            "Coopération « Maroc–Belgique » : l'été",
            "Le Soir",
            "Mon, 03 Mar 2025 08:15:00 GMT",
        )
    )
    (link,) = read_results("bing_news", body, RESULTS_URL.replace("nl", "fr"))
    assert link.url == outlet_url
    assert link.hints.title == "Coopération « Maroc–Belgique » : l'été"
    assert link.hints.language == "fr"


def test_an_undeclared_news_prefix_is_still_read():
    date = "Mon, 03 Mar 2025 08:15:00 GMT"
    body = rss(item(apiclick("https://www.hln.be/a"), "Titel", "HLN", date), namespace=False)
    (link,) = read_results("bing_news", body, RESULTS_URL)
    assert link.url == "https://www.hln.be/a"
    assert link.hints.site_name == "HLN"


def test_unwrapping():
    assert unwrapped("https://www.hln.be/a") == "https://www.hln.be/a"
    # a click counter without a usable target is kept: the crawler follows its redirect
    no_target = "https://www.bing.com/news/apiclick.aspx?ref=FexRss&c=1"
    assert unwrapped(no_target) == no_target
    bad_target = "https://www.bing.com/news/apiclick.aspx?url=javascript%3aalert(1)"
    assert unwrapped(bad_target) == bad_target
    assert unwrapped("not a link") is None


def test_no_results_is_an_empty_list():
    assert read_results("bing_news", rss(""), RESULTS_URL) == []


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html><head><title>Bing</title></head><body>Our systems have detected unusual "
        b"traffic</body></html>",
        b"\x89PNG\r\n\x1a\n\x00\x00",
        b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>Politie',
    ],
)
def test_anything_but_rss_is_malformed(body):
    with pytest.raises(MalformedResults, match="Bing News"):
        read_results("bing_news", body, RESULTS_URL)


def test_bing_pages_are_wrapped_outlets_are_not():
    assert wrapped("bing_news", "https://www.bing.com/news/apiclick.aspx?ref=FexRss&c=1")
    assert wrapped("bing_news", "https://bing.com/news/search?q=x")
    assert not wrapped("bing_news", "https://www.vrt.be/vrtnws/nl/")
    assert not wrapped("bing_news", "https://www.msn.com/nl-be/nieuws/other/x")


@pytest.mark.parametrize(
    ("language", "region", "expected"),
    [
        ("nl", "BE", "&setlang=nl&mkt=nl-BE"),
        ("fr", "BE", "&setlang=fr&mkt=fr-BE"),
        ("de", None, "&setlang=de&mkt=de-DE"),
        (None, "MA", "&cc=MA"),
        (None, None, ""),
    ],
)
def test_the_market_follows_language_and_region(language, region, expected):
    (url,) = result_urls("bing_news", "Marokko AND België", language, region)
    assert url == (
        f"https://www.bing.com/news/search?q=Marokko+AND+Belgi%C3%AB&format=rss{expected}"
    )
