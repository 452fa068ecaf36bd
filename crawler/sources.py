"""What to crawl and how: source definitions and crawl options as frozen values.

The application builds these from its configuration file; the crawler only reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crawler.processes import cores
from crawler.urls import host_of

# feed, sitemap, listing: addresses of documents listing article links; site: a homepage
# whose feeds and sitemaps are discovered (crawler.discovery); search: a news-search
# provider's results for a query (crawler.search).
SOURCE_KINDS = ("feed", "sitemap", "listing", "site", "search")


@dataclass(frozen=True)
class Source:
    """One news source: where its links come from and how to read them."""

    name: str
    kind: str  # one of SOURCE_KINDS
    urls: tuple[str, ...]
    language: str | None = None  # hint used when a page does not say
    tags: tuple[str, ...] = ()
    interval_seconds: int | None = None  # how often the scheduler polls; None = [crawl] default
    cron: str | None = None  # or at these times (a five-field crontab) instead of an interval
    link_selector: str | None = None  # listing: CSS selector of article links
    link_pattern: str | None = None  # listing/sitemap: regex an article URL must match
    max_articles: int | None = None  # cap on new article fetches per run
    # search: which provider (crawler.search.PROVIDERS), the query, and its region;
    # `urls` then holds the provider's result address(es) built from them.
    provider: str | None = None
    query: str | None = None
    region: str | None = None
    # Feeds are untrusted input: by default a link to a private, loopback or link-local
    # address on another host than the source's own is refused (server-side request forgery).
    allow_private_links: bool = False

    @property
    def own_hosts(self) -> frozenset[str]:
        """The hosts of the addresses the user configured: the private-address guard's only
        exemption (crawler.middlewares.private_addresses)."""
        return frozenset(host for host in map(host_of, self.urls) if host)


@dataclass(frozen=True)
class CrawlOptions:
    """How politely and within which limits the crawler fetches."""

    user_agent: str = "newswatch/0.1 (media monitoring; +https://github.com/newswatch/newswatch)"
    concurrency: int = 16
    per_domain_concurrency: int = 2
    download_delay: float = 0.25  # seconds between requests to one domain (AutoThrottle start)
    autothrottle: bool = True
    download_timeout: float = 20.0
    max_page_bytes: int = 5 * 1024 * 1024
    retries: int = 2
    obey_robots: bool = True
    # Extraction runs in a process pool so the crawl uses more than one core;
    # 0 extracts in the crawl process itself.
    extraction_workers: int = field(default_factory=cores)
    min_text_chars: int = 200
    max_articles_per_source: int = 200  # the rest wait in the backlog for the next run
    # An article that failed transiently (timeout, 5xx, 429) is tried again on the first
    # run after each of these delays, then given up with its cause kept.
    retry_schedule: tuple[float, ...] = (600.0, 3600.0, 21600.0, 86400.0)
    # A matched article is fetched again this long after its first fetch, each time, and
    # a new version is recorded when it changed (crawler.versions); empty: never.
    recheck_after: tuple[float, ...] = (3600.0, 21600.0, 86400.0, 259200.0)
    log_level: str = "INFO"
    # Keep each stored article's page as served (crawler.capture); [evidence] keep = "none"
    # turns it off.
    capture_pages: bool = True
    extra_scrapy_settings: dict[str, object] = field(default_factory=dict)


def article_cap(source: Source, options: CrawlOptions) -> int:
    """How many new articles one run of `source` may fetch: its own cap, else the crawl's."""
    return source.max_articles or options.max_articles_per_source


def poll_interval(source: Source, default: float) -> float:
    """Seconds between two polls of `source` as configured: its own interval, else `default`."""
    return float(source.interval_seconds or default)
