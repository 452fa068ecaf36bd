"""[[sources]] and [[topics]]: each source's keys by kind, a topic's searches as sources.

Part of reading newswatch.toml (newswatch.settings); every problem is reported with its
key through the TableReader, never raised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from apscheduler.triggers.cron import CronTrigger

from crawler.config_reader import Problem, TableReader
from crawler.search import PROVIDERS, LocaleError, result_urls
from crawler.sources import SOURCE_KINDS, Source

SOURCE_KEYS = (
    "name",
    "kind",
    "url",
    "urls",
    "language",
    "tags",
    "interval",
    "cron",
    "link_selector",
    "link_pattern",
    "max_articles",
    "allow_private_links",
    "enabled",
    "provider",
    "query",
    "region",
    "endpoint",
)
SEARCH_KEYS = ("provider", "query", "region", "endpoint")  # kind = "search" only
TOPIC_KEYS = (
    "name",
    "title",
    "description",
    "queries",
    "providers",
    "region",
    "endpoints",
    "allow_private_links",
)
_LANGUAGE_NAME = re.compile(r"^[a-z]{2,3}$")


@dataclass(frozen=True)
class Topic:
    name: str
    title: str
    description: str | None = None
    # News searches for the topic: (language, query) pairs, each asked of every provider;
    # they become search sources named <topic>-<provider>-<language>, tagged with the topic.
    queries: tuple[tuple[str, str], ...] = ()
    providers: tuple[str, ...] = ()


def read_topic(reader: TableReader) -> tuple[Topic, tuple[Source, ...]]:
    """A topic, and the search sources its queries expand into."""
    reader.only(TOPIC_KEYS)
    name = reader.text("name", "", required=True)
    topic = Topic(name, reader.text("title", name), reader.text("description"))
    if "queries" not in reader.values:
        for key in ("providers", "region", "endpoints", "allow_private_links"):
            if key in reader.values:
                reader.problem(key, "only with queries (a [topics.queries] table)")
        return topic, ()
    queries = reader.subtable("queries")
    if isinstance(reader.values["queries"], dict) and not queries.values:
        queries.problem(None, 'name each query by its language, e.g. fr = "Maroc Belgique"')
    providers = reader.strings("providers", PROVIDERS)
    for index, provider in enumerate(providers):
        if provider not in PROVIDERS:
            reader.problem(
                f"providers[{index}]", f"must be one of {', '.join(PROVIDERS)} (got {provider!r})"
            )
    providers = tuple(dict.fromkeys(p for p in providers if p in PROVIDERS))
    if "providers" in reader.values and not reader.values["providers"]:
        reader.problem("providers", f"give at least one of {', '.join(PROVIDERS)}")
    searches = _topic_searches(reader, queries, name, providers)
    pairs = tuple(dict.fromkeys((s.language or "", s.query or "") for s in searches))
    return replace(topic, queries=pairs, providers=providers), searches


def _topic_searches(
    reader: TableReader, queries: TableReader, topic: str, providers: tuple[str, ...]
) -> tuple[Source, ...]:
    """One search source per provider and language of a topic's queries."""
    endpoint_table = reader.subtable("endpoints")
    endpoint_table.only(PROVIDERS)
    endpoints = {p: _endpoint(endpoint_table, p) for p in PROVIDERS if p in endpoint_table.values}
    region = reader.text("region")
    allow_private_links = reader.flag("allow_private_links", False)
    sources = []
    for language, query in queries.values.items():
        if not _LANGUAGE_NAME.match(language):
            queries.problem(language, 'must be named by a language code such as "fr"')
            continue
        if not isinstance(query, str) or not query.strip():
            queries.problem(language, "must be a non-empty query")
            continue
        keys = {"query": queries.key(language), "language": queries.key(language)}
        for provider in providers:
            urls = _search_urls(
                reader, keys, provider, query, language, region, endpoints.get(provider)
            )
            sources.append(
                Source(
                    name=f"{topic}-{provider.replace('_', '-')}-{language}",
                    kind="search",
                    urls=urls,
                    language=language,
                    tags=(topic,),
                    provider=provider,
                    query=query.strip(),
                    region=region,
                    allow_private_links=allow_private_links,
                )
            )
    return tuple(sources)


def _search_urls(
    reader: TableReader,
    keys: dict[str, str],
    provider: str,
    query: str,
    language: str | None,
    region: str | None,
    endpoint: str | None,
) -> tuple[str, ...]:
    """The provider's result addresses; a query, language or region it cannot express is
    a problem at its key (`keys` maps crawler.search's key names to the file's)."""
    try:
        return result_urls(provider, query, language, region, endpoint)
    except LocaleError as error:
        problem = Problem(keys.get(error.key) or reader.key(error.key), f"{provider}: {error}")
        if problem not in reader.problems:  # one wording per key, not one per provider
            reader.problems.append(problem)
        return ()


def _endpoint(reader: TableReader, name: str) -> str | None:
    """A provider's base URL replaced (tests, mirrors): scheme, host, port and path only."""
    url = reader.text(name)
    if url is None:
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  raises on a port that is not a number
    except ValueError:
        parts = None
    if (
        not parts
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or (parts.query or parts.fragment)
    ):
        reader.problem(
            name,
            "must be an http(s) base URL without query, such as "
            f'"http://127.0.0.1:8080/rss/search" (got {url!r})',
        )
        return None
    return url


def _source_addresses(reader: TableReader) -> tuple[str, ...]:
    urls = reader.strings("urls") + reader.strings("url")
    if not urls:
        reader.problem("urls", "give the source's feed, sitemap or page address in url or urls")
    for index, url in enumerate(urls):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            reader.problem(f"urls[{index}]", f"must be an http(s) address (got {url!r})")
    return urls


def _search_source(reader: TableReader, language: str | None) -> dict[str, Any]:
    """provider, query, region and the result addresses of a kind = "search" source."""
    for key in ("url", "urls"):
        if key in reader.values:
            reader.problem(
                key,
                "a search source has no address of its own: it is built from "
                "provider and query (endpoint replaces the provider's)",
            )
    if "provider" not in reader.values:
        reader.problem("provider", f"a search source needs one of {', '.join(PROVIDERS)}")
    provider = reader.choice("provider", PROVIDERS)
    query = reader.values.get("query")
    if query is None:
        reader.problem("query", "a search source needs a query")
    elif not isinstance(query, str) or not query.strip():
        reader.problem("query", "must be a non-empty query")
        query = None
    region = reader.text("region")
    endpoint = _endpoint(reader, "endpoint")
    urls: tuple[str, ...] = ()
    if provider and query:
        urls = _search_urls(reader, {}, provider, query, language, region, endpoint)
    return {"provider": provider, "query": query and query.strip(), "region": region, "urls": urls}


def read_source(reader: TableReader) -> Source | None:
    reader.only(SOURCE_KEYS)
    name = reader.text("name", required=True)
    kind = reader.choice("kind", SOURCE_KINDS, required=True)
    language = reader.text("language")
    if kind == "search":
        search = _search_source(reader, language)
    else:
        for key in SEARCH_KEYS:
            if key in reader.values:
                reader.problem(key, 'only for kind = "search"')
        search = {"urls": _source_addresses(reader)}
    pattern = reader.text("link_pattern")
    if pattern:
        try:
            re.compile(pattern)
        except re.error as error:
            reader.problem("link_pattern", f"not a valid regular expression: {error}")
    if kind == "listing" and not (reader.values.get("link_selector") or pattern):
        reader.problem("link_selector", "a listing source needs link_selector or link_pattern")
    interval = reader.duration("interval", None)
    cron = reader.text("cron")
    if cron is not None:
        try:
            CronTrigger.from_crontab(cron)
        except ValueError as error:
            reader.problem("cron", f'must be a crontab like "*/15 6-22 * * *" ({error})')
            cron = None
        if interval:
            reader.problem("cron", "give interval or cron, not both")
    source = Source(
        name=name or "",
        kind=kind or "feed",
        language=language,
        tags=reader.strings("tags"),
        interval_seconds=int(interval) if interval else None,
        cron=cron,
        link_selector=reader.text("link_selector"),
        link_pattern=pattern,
        max_articles=reader.number("max_articles", None, minimum=1, integer=True),
        allow_private_links=reader.flag("allow_private_links", False),
        **search,
    )
    return source if reader.flag("enabled", True) else None
