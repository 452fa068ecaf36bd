"""What the pages and the API both do: each function is one session over crawler.storage."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from alerts.archive import Found, Position, ResultPage, Search, search_page
from alerts.redact import redact_urls
from crawler.storage import alert_log, deliveries, feed
from crawler.storage import sources as source_queries
from crawler.storage import versions as version_queries
from crawler.storage.alert_log import LogEntry, LogPage, RuleSummary
from crawler.storage.feed import FeedFilter, FeedItem
from crawler.storage.sources import FAILING_AFTER, SourceHealth
from crawler.versions import FieldDiff, Version, with_diffs
from newswatch.web.context import Web
from newswatch.web.params import FeedView


@dataclass(frozen=True)
class Story:
    id: int
    members: tuple[FeedItem, ...]

    @property
    def first(self) -> FeedItem:
        return self.members[0]

    @property
    def outlets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.site_name or m.source for m in self.members))


@dataclass(frozen=True)
class Rule:
    name: str
    query: str | None  # None: no longer configured, but it matched before
    matches: int
    last_matched_at: datetime | None


@dataclass(frozen=True)
class Choices:
    """What the filter form offers."""

    rules: tuple[str, ...]
    tags: tuple[tuple[str, str], ...]  # (tag, label)
    sources: tuple[str, ...]
    languages: tuple[str, ...]


@dataclass(frozen=True)
class _Rows:
    items: tuple[Found, ...]
    next: Position | None


class _Judged:
    """alerts.archive.search_page as feed.iter_feed's page reader: rows with their hits.

    It keeps the last page it read (where the next one starts, whether the budget stopped
    it). A page the budget stopped ends the read: a request judges one budget's worth.
    """

    def __init__(self, search: Search | None, order: str) -> None:
        self.search, self.order = search, order
        self.last = ResultPage((), None)

    def __call__(
        self, session: Session, where: FeedFilter, after: Position | None, limit: int
    ) -> _Rows:
        self.last = search_page(
            session, self.search, where, order=self.order, after=after, limit=limit
        )
        return _Rows(self.last.found, None if self.last.partial else self.last.next)


def feed_rows(
    web: Web,
    view: FeedView,
    search: Search | None,
    after: Position | None = None,
    limit: int | None = None,
) -> ResultPage:
    """A page of the feed view, from `after` on: the feed page, the API and the Atom feeds.

    Read by feed.iter_feed with the filters `newswatch export` builds from the same
    options, so newest first (the default order) these are the rows of the exports, in
    their order; collapse=1 is one row per story there too.
    """
    size = limit or web.options.page_size
    judged = _Judged(search, view.order or "newest")
    with web.sessions() as session:
        rows = feed.iter_feed(session, view.filter(), size, after=after, limit=size, pages=judged)
        found = tuple(rows)
    return replace(judged.last, found=found)


def story(web: Web, story_id: int) -> Story | None:
    with web.sessions() as session:
        members = feed.story_items(session, story_id)
    return Story(story_id, tuple(members)) if members else None


def article(web: Web, article_id: int) -> tuple[FeedItem, Story] | None:
    with web.sessions() as session:
        found = feed.get_item(session, article_id)
        if found is None:
            return None
        members = feed.story_items(session, found.story_id)
    return found, Story(found.story_id, tuple(members))


def article_versions(web: Web, article_id: int) -> list[tuple[Version, list[FieldDiff]]]:
    """The article's versions after the first, newest first, each with its diff."""
    with web.sessions() as session:
        history = version_queries.history(session, article_id)
    return list(reversed(with_diffs(history)[1:]))


def rules(web: Web) -> list[Rule]:
    """Configured rules first (in config order), then rules only the history knows."""
    with web.sessions() as session:
        seen = {summary.name: summary for summary in alert_log.rule_summaries(session)}
    configured = web.configured_rules()
    names = list(configured) + sorted(set(seen) - set(configured))
    empty = RuleSummary("", 0, None)
    return [
        Rule(
            name,
            configured.get(name),
            seen.get(name, empty).matches,
            seen.get(name, empty).last_matched_at,
        )
        for name in names
    ]


def sources(web: Web) -> list[SourceHealth]:
    """Every configured source's health, as `newswatch status` and `sources` show it
    (without a configuration: every stored source's)."""
    configured = web.settings.sources if web.settings else None
    with web.sessions() as session:
        return source_queries.source_health(session, configured, failing_after(web))


def failing_after(web: Web) -> int:
    """Failed runs in a row that make a source "failing" ([service] failing_after)."""
    return web.settings.service.health.failing_after if web.settings else FAILING_AFTER


def choices(web: Web) -> Choices:
    with web.sessions() as session:
        names = feed.source_names(session)
        languages = feed.languages(session)
        tags = sorted({tag for tags in feed.source_tags(session) for tag in tags})
    topics = web.topics()
    labelled = [(tag, topics.get(tag, tag)) for tag in tags]
    labelled += [(name, title) for name, title in topics.items() if name not in tags]
    return Choices(
        tuple(r.name for r in rules(web)), tuple(labelled), tuple(names), tuple(languages)
    )


def delivery_log(
    web: Web, state: str | None, rule: str | None, before: int | None
) -> tuple[LogPage, dict[str, int]]:
    """A page of deliveries, their errors without channel addresses, and the count per state."""
    with web.sessions() as session:
        page = alert_log.delivery_page(
            session, state=state, rule=rule, before=before, limit=web.options.page_size
        )
        counts = alert_log.delivery_states(session)
    return replace(page, entries=tuple(_redacted(entry) for entry in page.entries)), counts


def _redacted(entry: LogEntry) -> LogEntry:
    error = redact_urls(entry.delivery.last_error)
    return replace(entry, delivery=replace(entry.delivery, last_error=error))


def retry_dead(web: Web, delivery_ids: list[int] | None) -> int:
    """Re-queue dead deliveries (these, or all): the storage call of `newswatch alerts retry`.

    An empty list re-queues nothing (requeue_dead reads "no ids" as "all").
    """
    if delivery_ids is not None and not delivery_ids:
        return 0
    with web.sessions() as session, session.begin():
        return deliveries.requeue_dead(session, datetime.now(UTC), delivery_ids)
