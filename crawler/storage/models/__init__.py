"""All tables, one module per aggregate; importing this package registers them on Base."""

from crawler.storage.models import alerts as alerts  # registers the alert tables
from crawler.storage.models import captures as captures  # registers page_captures
from crawler.storage.models import schedule as schedule  # registers the schedule table
from crawler.storage.models import stories as stories  # registers the story index tables
from crawler.storage.models import versions as versions  # registers article_versions
from crawler.storage.models import websub as websub  # registers websub_subscriptions
from crawler.storage.models.articles import Article, Story
from crawler.storage.models.base import Base, UTCDateTime
from crawler.storage.models.crawl import (
    BacklogLink,
    CrawlRun,
    Failure,
    FetchState,
    LinkSighting,
    RobotsFile,
    SiteEndpoint,
    Source,
)

__all__ = [
    "Article",
    "BacklogLink",
    "Base",
    "CrawlRun",
    "Failure",
    "FetchState",
    "LinkSighting",
    "RobotsFile",
    "SiteEndpoint",
    "Source",
    "Story",
    "UTCDateTime",
]
