"""Which checked feeds and sitemaps to follow, and why the others are not (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from crawler.discovery.choice import judge
from crawler.discovery.homepage import Candidate
from crawler.discovery.probe import Probe, choose, failed

ADVERTISED = 'link rel="alternate" (application/rss+xml)'


def day(number: int) -> datetime:
    return datetime(2026, 12, number, tzinfo=UTC)


def feed(url, links, newest, *, title=None, link_title=None, how=ADVERTISED, form="RSS 2.0"):
    candidate = Candidate(url, "feed", how, link_title)
    return Probe(
        candidate, "feed", len(links), (), newest, "fr", None, url, form, title, tuple(links)
    )


def sitemap(url, links, newest, *, news=False, via=None, how="robots.txt Sitemap:"):
    candidate = Candidate(url, "sitemap", how, via=via)
    form = "news sitemap" if news else "sitemap"
    return Probe(
        candidate, "sitemap", len(links), (), newest, None, None, url, form, None, tuple(links)
    )


def index(url, children):
    candidate = Candidate(url, "sitemap", "robots.txt Sitemap:")
    return Probe(candidate, "sitemap", 0, tuple(children), None, None, None, url, "sitemap index")


ALL = [f"https://x.be/{n}" for n in range(30)]


def test_a_news_sitemap_and_the_main_feed_are_chosen():
    main = feed("https://x.be/rss", ALL[:10], day(5), title="Le Soir")
    section = feed("https://x.be/rss/sport", ALL[20:25], day(3))
    comments = feed("https://x.be/comments/feed", ["https://x.be/0#c1"], day(6))
    plain = sitemap("https://x.be/sitemap.xml", ALL, day(5))
    news = sitemap("https://x.be/news-sitemap.xml", ALL[:12], day(5), news=True)
    chosen = choose([section, main, comments, plain, news])
    assert [(p.url, why.split(":")[0]) for p, why in chosen] == [
        ("https://x.be/news-sitemap.xml", "a news sitemap"),
        ("https://x.be/rss", "the main feed"),
    ]
    why_not = {v.probe.url: v.why for v in judge([section, main, comments, plain, news])}
    assert why_not["https://x.be/comments/feed"] == "a feed of readers' comments, not of articles"
    assert why_not["https://x.be/rss/sport"].startswith("another feed: 5 of its 5 items")
    assert why_not["https://x.be/sitemap.xml"].startswith("another sitemap (18 links")


def test_comment_feeds_are_never_chosen_whatever_they_call_themselves():
    comments = feed("https://x.be/feed/c", ALL[:3], day(6), title="Commentaires sur Le Soir")
    linked = feed("https://x.be/f2", ALL[:3], day(6), link_title="X » Comments Feed")
    assert choose([comments, linked]) == []


def test_twin_feeds_in_two_formats_give_one():
    rss = feed("https://x.be/rss", ALL[:10], day(5))
    atom = feed("https://x.be/atom", ALL[:10], day(5), form="Atom")
    verdicts = judge([rss, atom])
    assert [v.probe.url for v in verdicts if v.chosen] == ["https://x.be/rss"]
    assert verdicts[1].why == "the same 10 links as the chosen https://x.be/rss"


def test_a_sitemap_index_is_chosen_over_its_plain_parts_but_not_over_a_news_part():
    parts = [
        sitemap(
            f"https://x.be/s{n}.xml",
            ALL[n * 10 : (n + 1) * 10],
            day(n + 1),
            via="https://x.be/index.xml",
            how="a part of the sitemap index",
        )
        for n in range(3)
    ]
    top = index("https://x.be/index.xml", [p.url for p in parts])
    verdicts = judge([top, *parts])
    assert [v.probe.url for v in verdicts if v.chosen] == ["https://x.be/index.xml"]
    assert {v.why for v in verdicts if not v.chosen} == {"a part of the chosen sitemap index"}

    news = sitemap("https://x.be/news.xml", ALL[:5], day(9), news=True, via=top.url)
    verdicts = judge([top, news, *parts])
    assert [v.probe.url for v in verdicts if v.chosen] == ["https://x.be/news.xml"]
    why = {v.probe.url: v.why for v in verdicts}
    assert why[top.url] == "a sitemap index: its part https://x.be/news.xml is chosen"
    assert why[parts[0].url].startswith("a part of the sitemap index https://x.be/index.xml")


def test_the_top_level_sitemap_with_the_newest_articles():
    old = sitemap("https://x.be/archive.xml", ALL[10:], day(1))
    new = sitemap("https://x.be/sitemap.xml", ALL[:10], day(4))
    ((chosen, why),) = choose([old, new])
    assert chosen is new and why == "the sitemap with the newest articles"


def test_unusable_and_repeated_candidates_are_explained():
    dead = failed(Candidate("https://x.be/old.rss", "feed", ADVERTISED), "HTTP 404")
    rss = feed("https://x.be/feed/", ALL[:3], day(2))
    again = feed("https://x.be/feed/", ALL[:3], day(2), how="usual path /feed")
    verdicts = judge([dead, rss, again])
    assert [(v.chosen, v.why) for v in verdicts] == [
        (True, "the site's feed"),
        (False, "HTTP 404"),
        (False, f"the same address as https://x.be/feed/ ({ADVERTISED})"),
    ]


def test_nothing_usable_nothing_chosen():
    assert choose([]) == []
    dead = failed(Candidate("https://x.be/feed", "feed", "usual path /feed"), "HTTP 404")
    assert choose([dead]) == []
