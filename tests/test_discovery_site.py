"""One site's discovery step by step: what is asked for next, given each answer (pure)."""

from __future__ import annotations

from crawler.discovery.site import SiteDiscovery

HOME = "https://x.be/"
PAGE = (
    b'<html lang="fr"><head><link rel="alternate" type="application/rss+xml" href="/old.rss">'
    b"</head></html>"
)
INDEX = (
    b"<sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
    + "".join(
        f"<sitemap><loc>https://x.be/posts-{n}.xml</loc></sitemap>" for n in range(6)
    ).encode()
    + b"<sitemap><loc>https://x.be/news.xml</loc></sitemap></sitemapindex>"
)
URLSET = (
    b"<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
    b"<url><loc>https://x.be/a.html</loc></url></urlset>"
)


def urls(candidates) -> list[str]:
    return [candidate.url for candidate in candidates]


def test_the_steps_of_a_site_that_advertises_a_dead_feed_and_a_sitemap_index():
    site = SiteDiscovery(HOME)
    (home,) = site.start()
    assert (home.url, home.kind) == (HOME, "homepage")

    feed, robots = site.read(home, 200, PAGE, "text/html; charset=utf-8", HOME)
    assert (feed.url, robots.url) == ("https://x.be/old.rss", "https://x.be/robots.txt")
    assert site.language == "fr"
    (index,) = site.read(robots, 200, b"Sitemap: https://x.be/index.xml\n", None, robots.url)
    assert site.read(feed, 404, b"", "text/html", feed.url) == []

    parts = site.read(index, 200, INDEX, "application/xml", index.url)
    assert urls(parts)[0] == "https://x.be/news.xml" and len(parts) == 4  # news first, 4 at most
    assert all(part.via == index.url for part in parts)
    assert not site.done
    for part in parts[:-1]:
        assert site.read(part, 200, URLSET, "application/xml", part.url) == []
    # the last answer: nothing in flight, a usable sitemap but no usable feed → usual feed paths
    usual = site.read(parts[-1], 200, URLSET, "application/xml", parts[-1].url)
    assert urls(usual)[:2] == ["https://x.be/feed", "https://x.be/rss"]
    assert {c.kind for c in usual} == {"feed"}
    for candidate in usual:
        assert site.read(candidate, 404, b"", "text/html", candidate.url) == []
    assert site.done

    report = site.report()
    assert report.reachable and report.problem is None and report.language == "fr"
    assert urls(p.candidate for p in report.probes)[:3] == [
        "https://x.be/old.rss",
        "https://x.be/index.xml",
        "https://x.be/news.xml",
    ]
    assert [p.problem for p in report.probes][:2] == ["HTTP 404", None]


def test_an_unreachable_homepage_ends_the_site_at_once():
    site = SiteDiscovery(HOME)
    (home,) = site.start()
    assert site.failed(home, "connection", "connection refused") == []
    report = site.report()
    assert site.done and not report.reachable
    assert report.problem == "connection refused" and report.probes == ()


def test_a_homepage_refused_by_robots_txt_still_reads_robots_txt_and_the_usual_paths():
    site = SiteDiscovery(HOME)
    (home,) = site.start()
    (robots,) = site.failed(home, "robots", "forbidden by robots.txt")
    usual = site.read(robots, 404, b"", "text/html", robots.url)
    assert {c.kind for c in usual} == {"feed", "sitemap"}
    assert site.report().problem == "forbidden by robots.txt"


def test_a_candidate_is_asked_for_once_and_a_failed_one_is_reported():
    site = SiteDiscovery(HOME)
    (home,) = site.start()
    page = b'<link rel="alternate" type="application/rss+xml" href="/feed">'
    feed, robots = site.read(home, 200, page, "text/html", HOME)
    assert site.read(robots, 200, b"Sitemap: https://x.be/feed\n", None, robots.url) == []
    usual = site.failed(feed, "timeout", "no complete response in time")
    assert "https://x.be/feed" not in urls(usual)
    assert site.report().probes[0].problem == "no complete response in time"


def test_a_report_of_an_unfinished_site_says_so():
    site = SiteDiscovery(HOME)
    site.start()
    assert site.report().problem == "discovery stopped before it was done"
