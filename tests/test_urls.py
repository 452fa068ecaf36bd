"""Tests for crawler.urls: canonical URLs, hosts, same-site tests and the canonical choice."""

from __future__ import annotations

import pytest

from crawler.urls import absolute_url, article_key, canonical_url, host_of, same_site


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        # scheme and host case, default ports, fragment, empty path
        ("HTTPS://WWW.Example.COM:443", "https://www.example.com/"),
        ("http://example.com:80/a#section-2", "http://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com:80/a", "https://example.com:80/a"),
        # http and https stay as given
        ("http://example.com/a", "http://example.com/a"),
        # trailing slash on non-root paths, dot segments
        ("https://example.com/news/story/", "https://example.com/news/story"),
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        # tracking parameters removed, the rest sorted
        (
            "https://example.com/a?utm_source=x&b=2&utm_medium=y&a=1&fbclid=abc",
            "https://example.com/a?a=1&b=2",
        ),
        (
            "https://example.com/a?gclid=1&dclid=2&msclkid=3&mc_cid=4&mc_eid=5&xtor=RSS-1"
            "&at_medium=7&at_campaign=8&ocid=9&cmpid=10&_ga=11&igshid=12&ref_src=13&ref=14",
            "https://example.com/a",
        ),
        ("https://example.com/a?UTM_Campaign=x&id=7", "https://example.com/a?id=7"),
        ("https://example.com/a?id=7&", "https://example.com/a?id=7"),
        # percent-encoding: unreserved characters decoded, escapes upper-cased, non-ASCII escaped
        ("https://example.com/%7euser/%41bc", "https://example.com/~user/Abc"),
        ("https://example.com/a%2fb", "https://example.com/a%2Fb"),
        ("https://example.com/straße über", "https://example.com/stra%C3%9Fe%20%C3%BCber"),
        ("https://example.com/stra%c3%9fe", "https://example.com/stra%C3%9Fe"),
        (
            "https://example.com/s?q=caf%c3%a9+cr%C3%A8me",
            "https://example.com/s?q=caf%C3%A9+cr%C3%A8me",
        ),
        # IDNA hosts: written in their ASCII form, "ß" kept (non-transitional UTS 46)
        ("https://Bücher.example/x", "https://xn--bcher-kva.example/x"),
        ("https://straße.de/", "https://xn--strae-oqa.de/"),
        # AMP variants
        ("https://example.com/news/story/amp/", "https://example.com/news/story"),
        ("https://example.com/amp/news/story", "https://example.com/news/story"),
        ("https://example.com/news/story.amp.html", "https://example.com/news/story.html"),
        ("https://example.com/news/story?amp=1", "https://example.com/news/story"),
        ("https://example.com/news/story?amp", "https://example.com/news/story"),
        (
            "https://example.com/news/story?outputType=amp&id=3",
            "https://example.com/news/story?id=3",
        ),
        ("https://amp.example.com/news/story", "https://example.com/news/story"),
        # mobile hosts
        ("https://m.example.com/news/story", "https://example.com/news/story"),
        ("https://mobile.example.co.uk/news", "https://example.co.uk/news"),
        # a one-letter second-level domain is not a mobile prefix
        ("https://m.com/news", "https://m.com/news"),
        # IPv6 literal and credentials survive
        ("http://[::1]:8080/a", "http://[::1]:8080/a"),
        ("https://user:pw@example.com/a", "https://user:pw@example.com/a"),
    ],
)
def test_canonical_url(given: str, expected: str) -> None:
    assert canonical_url(given) == expected


def test_canonical_url_is_idempotent() -> None:
    once = canonical_url("HTTPS://M.Example.com/a/amp/?utm_source=x&b=%7e&a=1#top")
    assert canonical_url(once) == once == "https://example.com/a?a=1&b=~"


def test_tracking_variants_of_one_link_meet() -> None:
    variants = [
        "https://www.example.com/politik/artikel-123",
        "https://www.example.com/politik/artikel-123/?utm_source=twitter&utm_medium=social",
        "https://www.example.com/politik/artikel-123#kommentare",
        "https://www.example.com/politik/artikel-123?fbclid=IwAR0abc",
        "https://WWW.EXAMPLE.COM:443/politik/artikel-123/amp",
    ]
    assert len({canonical_url(v) for v in variants}) == 1


@pytest.mark.parametrize(
    "bad", ["/relative/path", "mailto:someone@example.com", "ftp://example.com/a", "https://"]
)
def test_canonical_url_rejects_non_http(bad: str) -> None:
    with pytest.raises(ValueError, match="absolute http"):
        canonical_url(bad)


def test_host_of() -> None:
    assert host_of("https://WWW.Example.com:8443/a") == "www.example.com"
    assert host_of("https://Bücher.example/") == "xn--bcher-kva.example"
    assert host_of("/relative") == ""


def test_same_site_ignores_www_mobile_and_amp_prefixes() -> None:
    assert same_site("https://www.example.com/a", "http://example.com/b")
    assert same_site("https://m.example.com/a", "https://www.example.com/a")
    assert same_site("https://amp.example.com/a", "https://example.com/a")
    assert not same_site("https://example.com/a", "https://example.org/a")
    assert not same_site("https://news.example.com/a", "https://example.com/a")
    assert not same_site("/a", "/a")


def fetched(url: str, declared: str | None = None) -> str:
    """The key of a page fetched from the link as published (no redirect)."""
    return article_key(canonical_url(url), url, url, declared)


def test_article_key_honours_same_site_declaration() -> None:
    chosen = fetched(
        "https://m.example.com/story-1?utm_source=rss",
        "https://www.example.com/politics/story-1/",
    )
    assert chosen == "https://www.example.com/politics/story-1"


@pytest.mark.parametrize(
    "declared",
    [
        None,
        "",
        "https://other-site.example/story-1",  # another site cannot claim the key
        "/politics/story-1",  # not absolute
        "ftp://www.example.com/story-1",  # not http(s)
        "https://www.example.com/",  # template mistake: every article pointing at the home page
    ],
)
def test_article_key_falls_back_to_fetched_url(declared: str | None) -> None:
    assert fetched("https://www.example.com/story-1?utm_campaign=x", declared) == (
        "https://www.example.com/story-1"
    )


def test_article_key_takes_the_links_key_as_decided_unless_redirected() -> None:
    link = "https://www.example.com/story-1?utm_campaign=x"
    decided = "https://example.com/story-1"  # a key the spider decided, not recomputed here
    # Served from the link itself: the spider's key stands.
    assert article_key(decided, link, link, None) == decided
    # Redirected: the final URL is another input, so its own key counts.
    moved = "https://www.example.com/2026/story-1?ref=rss"
    assert article_key(decided, link, moved, None) == "https://www.example.com/2026/story-1"
    # A declaration is judged against the page's final URL, whichever key it had.
    declared = "https://example.com/politics/story-1/"
    assert article_key(decided, link, moved, declared) == "https://example.com/politics/story-1"


def test_absolute_url() -> None:
    assert absolute_url("https://example.com/a/b", "../c") == "https://example.com/c"
    assert absolute_url("https://example.com/a", "//cdn.example.com/i.jpg") == (
        "https://cdn.example.com/i.jpg"
    )
    assert absolute_url("https://example.com/a", "javascript:alert(1)") is None
    assert absolute_url("https://example.com/a", "  ") is None
