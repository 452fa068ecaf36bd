"""Every route of the web app, in one table: pages, Atom feeds, exports and the JSON API."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from newswatch.web import api, coverage, evidence, export, feeds, login, pages


def routes(static: Path) -> list[BaseRoute]:
    return [
        # pages (server-rendered; the one form that changes state posts to /alerts/retry)
        Route("/", pages.feed, name="feed"),
        Route("/articles/{article_id:int}", pages.article, name="article"),
        # the page as the outlet served it (crawler.capture), for web-archive tools
        Route("/articles/{article_id:int}/page.warc.gz", evidence.warc, name="article_warc"),
        Route("/stories/{story_id:int}", pages.story, name="story"),
        Route("/alerts", pages.alert_log, name="alerts"),
        Route("/alerts/retry", pages.retry, methods=["POST"], name="retry"),
        Route("/sources", pages.sources, name="sources"),
        Route("/coverage", coverage.coverage, name="coverage"),
        # signing in with the token, where the server is exposed (see web.access)
        Route("/login", login.login, methods=["GET", "POST"], name="login"),
        Route("/logout", login.logout, methods=["POST"], name="logout"),
        # Atom 1.0, one entry per story
        Route("/feeds/rules/{rule:str}", feeds.rule_feed, name="rule_feed"),
        Route("/feeds/tags/{tag:str}", feeds.tag_feed, name="tag_feed"),
        Route("/feeds/search", feeds.search_feed, name="search_feed"),
        # the feed view's filters, every matching article
        Route("/export.csv", export.csv_export, name="export_csv"),
        Route("/export.jsonl", export.jsonl_export, name="export_jsonl"),
        # JSON API, listed at /api/ and described by /api/openapi.json
        Route("/api/", api.index, name="api_index"),
        Route("/api/openapi.json", api.openapi, name="api_openapi"),
        Route("/api/articles", api.articles, name="api_articles"),
        Route("/api/articles/{article_id:int}", api.article, name="api_article"),
        Route("/api/stories", api.stories, name="api_stories"),
        Route("/api/stories/{story_id:int}", api.story, name="api_story"),
        Route("/api/rules", api.rules, name="api_rules"),
        Route("/api/deliveries", api.deliveries, name="api_deliveries"),
        Route("/api/deliveries/{delivery_id:int}/retry", api.retry, methods=["POST"]),
        Route("/api/sources", api.sources, name="api_sources"),
        Mount("/static", StaticFiles(directory=static), name="static"),
    ]
