"""Queries on coverage: per outlet, which way of finding articles saw what, and what was lost.

A sighting (crawler.storage.sightings) says that a way — feed, sitemap, listing, search —
listed a link. Its key is stored when an article has it as `url` or `link_key`; else the
backlog says why not (over a run's cap, failed and retrying, given up, refused); else it
was not fetched yet. Keys that led to one article count as one article, found by every
way that listed any of them.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from crawler.storage.backlog import RETRY, WAITING
from crawler.storage.models import Article, BacklogLink, LinkSighting
from crawler.urls import DEFAULT_PORTS, SAME_SITE_PREFIXES, outlet_of, wanted_outlet

WAYS = ("feed", "sitemap", "listing", "search")  # the order reports show them in
CAP = "cap"  # the reason of a link left over a run's cap (state waiting)
NOT_FETCHED = "not fetched yet"  # listed, but neither stored nor in the backlog
RETRYING = " (retrying)"  # appended to the reason of a link that will be tried again
_STATUS = re.compile(r"HTTP (\d{3})")


def outlet_matches(outlet: str, wanted: str) -> bool:
    """An outlet is the one wanted; a wanted outlet without a port means any port."""
    if outlet == wanted:
        return True
    host, colon, port = outlet.rpartition(":")
    return bool(colon) and port.isdigit() and host == wanted


def reason_label(state: str | None, reason: str | None, detail: str | None) -> str:
    """A link's reason for not being stored, as reports group it ("http 404", "cap")."""
    if state is None:
        return NOT_FETCHED
    if state == WAITING:
        return CAP
    label = reason or state
    if reason == "http":
        status = _STATUS.search(detail or "")
        label = f"http {status[1]}" if status else "http"
    return label + RETRYING if state == RETRY else label


@dataclass(frozen=True)
class Link:
    """One article as the ways of finding it saw it: stored, or why not."""

    key: str  # the canonical key of the (first) link that was listed
    url: str  # to show: the stored article's URL, else the link as published, else the key
    ways: tuple[str, ...]
    first_seen_at: datetime
    article_id: int | None = None
    title: str | None = None
    reason: str | None = None  # None when stored (see reason_label)
    state: str | None = None  # in the backlog: waiting | retry | gave_up | refused
    detail: str | None = None

    @property
    def stored(self) -> bool:
        return self.article_id is not None


@dataclass(frozen=True)
class OutletCoverage:
    """One outlet: what each way found, what it alone found, what was found but not stored."""

    outlet: str
    found: int
    stored: int
    found_by: dict[str, int]  # way → articles it listed
    only_by: dict[str, int]  # way → articles no other way listed
    not_stored: dict[str, int]  # reason → articles, most first
    only_one_way: tuple[Link, ...] = ()  # with details: by way, then URL
    unstored: tuple[Link, ...] = ()  # with details: by reason, then URL
    more_only_one_way: int = 0  # left out by the details limit
    more_unstored: int = 0

    @property
    def not_stored_total(self) -> int:
        return self.found - self.stored


@dataclass(frozen=True)
class Coverage:
    outlets: tuple[OutletCoverage, ...]
    ways: tuple[str, ...]  # the ways that found anything, in report order

    @property
    def found(self) -> int:
        return sum(outlet.found for outlet in self.outlets)

    @property
    def stored(self) -> int:
        return sum(outlet.stored for outlet in self.outlets)


@dataclass
class _Found:
    key: str
    outlet: str
    first_seen_at: datetime
    ways: set[str] = field(default_factory=set)
    article_id: int | None = None
    backlog: tuple[str | None, str | None, str | None, str | None] = (None, None, None, None)


def report(
    session: Session,
    *,
    since: datetime | None = None,
    outlet: str | None = None,
    details: int = 0,
) -> Coverage:
    """Coverage per outlet, most articles found first.

    since: only articles first found (by any way) on or after it. outlet: only this one
    (see wanted_outlet). details: list up to this many single-way and not-stored
    articles per outlet (0: counts only).
    """
    wanted = wanted_outlet(outlet) if outlet else None
    found: dict[tuple[str, object], _Found] = {}
    for key, way, seen_at, article_id, *backlog in session.execute(
        _sightings(since, wanted).execution_options(yield_per=2000)
    ):
        place = outlet_of(key)
        if wanted is not None and not outlet_matches(place, wanted):
            continue
        # keys that led to one article (a page declaring another canonical) are one article
        identity = ("article", article_id) if article_id is not None else ("key", key)
        entry = found.get(identity)
        if entry is None:
            entry = found[identity] = _Found(key, place, seen_at, article_id=article_id)
        entry.ways.add(way)
        entry.first_seen_at = min(entry.first_seen_at, seen_at)
        if article_id is None:
            entry.backlog = tuple(backlog)
    by_outlet: dict[str, list[_Found]] = defaultdict(list)
    for entry in found.values():
        by_outlet[entry.outlet].append(entry)
    ways = _ordered({way for entry in found.values() for way in entry.ways})
    outlets = [_outlet(name, entries, ways) for name, entries in by_outlet.items()]
    outlets.sort(key=lambda row: (-row.found, row.outlet))
    if details:
        outlets = _with_details(session, outlets, by_outlet, ways, details)
    return Coverage(tuple(outlets), ways)


def _sightings(since: datetime | None, wanted: str | None) -> Select:
    by_url = select(Article.id).where(Article.url == LinkSighting.key).scalar_subquery()
    by_link = (
        select(func.min(Article.id)).where(Article.link_key == LinkSighting.key).scalar_subquery()
    )
    query = select(
        LinkSighting.key,
        LinkSighting.way,
        LinkSighting.first_seen_at,
        func.coalesce(by_url, by_link),
        BacklogLink.state,
        BacklogLink.reason,
        BacklogLink.detail,
        BacklogLink.url,
    ).outerjoin(BacklogLink, BacklogLink.key == LinkSighting.key)
    if wanted is not None:
        query = query.where(_key_on(LinkSighting.key, wanted))
    if since is not None:
        recent = (
            select(LinkSighting.key)
            .group_by(LinkSighting.key)
            .having(func.min(LinkSighting.first_seen_at) >= since)
        )
        if wanted is not None:
            recent = recent.where(_key_on(LinkSighting.key, wanted))
        query = query.where(LinkSighting.key.in_(recent))
    return query.order_by(LinkSighting.key, LinkSighting.way)


def _key_on(column, wanted: str):
    """Keys that may be on the wanted outlet (outlet_matches decides; this narrows the scan)."""
    escaped = wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    ends = ("/%",) if _has_port(wanted) else ("/%", ":%")
    return or_(
        *(
            column.like(f"{scheme}://{prefix}{escaped}{end}", escape="\\")
            for scheme in DEFAULT_PORTS
            for prefix in ("", *SAME_SITE_PREFIXES)
            for end in ends
        )
    )


def _has_port(outlet: str) -> bool:
    _host, colon, port = outlet.rpartition(":")
    return bool(colon) and port.isdigit() and not outlet.endswith("]")


def _ordered(ways: Iterable[str]) -> tuple[str, ...]:
    ways = set(ways)
    return tuple(way for way in WAYS if way in ways) + tuple(sorted(ways - set(WAYS)))


def _reason(entry: _Found) -> str | None:
    if entry.article_id is not None:
        return None
    state, reason, detail, _url = entry.backlog
    return reason_label(state, reason, detail)


def _outlet(name: str, entries: list[_Found], ways: tuple[str, ...]) -> OutletCoverage:
    found_by = Counter(way for entry in entries for way in entry.ways)
    only_by = Counter(next(iter(entry.ways)) for entry in entries if len(entry.ways) == 1)
    reasons = Counter(reason for reason in map(_reason, entries) if reason is not None)
    return OutletCoverage(
        outlet=name,
        found=len(entries),
        stored=sum(1 for entry in entries if entry.article_id is not None),
        found_by={way: found_by[way] for way in ways},
        only_by={way: only_by[way] for way in ways},
        not_stored=dict(sorted(reasons.items(), key=lambda item: (-item[1], item[0]))),
    )


def _with_details(
    session: Session,
    outlets: list[OutletCoverage],
    by_outlet: dict[str, list[_Found]],
    ways: tuple[str, ...],
    limit: int,
) -> list[OutletCoverage]:
    chosen: dict[str, tuple[list[_Found], list[_Found]]] = {}
    for name, entries in by_outlet.items():
        single = [entry for entry in entries if len(entry.ways) == 1]
        single.sort(key=lambda entry: (ways.index(next(iter(entry.ways))), entry.key))
        unstored = [entry for entry in entries if entry.article_id is None]
        unstored.sort(key=lambda entry: (_reason(entry) or "", entry.key))
        chosen[name] = (single, unstored)
    ids = {e.article_id for single, _ in chosen.values() for e in single[:limit] if e.article_id}
    articles = _articles(session, ids)
    out = []
    for row in outlets:
        single, unstored = chosen[row.outlet]
        out.append(
            replace(
                row,
                only_one_way=tuple(_link(entry, articles, ways) for entry in single[:limit]),
                unstored=tuple(_link(entry, articles, ways) for entry in unstored[:limit]),
                more_only_one_way=max(0, len(single) - limit),
                more_unstored=max(0, len(unstored) - limit),
            )
        )
    return out


def _articles(session: Session, ids: set[int]) -> dict[int, tuple[str, str | None]]:
    """(url, title) of these articles."""
    wanted, found = sorted(ids), {}
    for start in range(0, len(wanted), 500):  # stay below SQL parameter limits
        chunk = wanted[start : start + 500]
        query = select(Article.id, Article.url, Article.title).where(Article.id.in_(chunk))
        found.update({id_: (url, title) for id_, url, title in session.execute(query)})
    return found


def _link(entry: _Found, articles: dict[int, tuple[str, str | None]], ways) -> Link:
    ordered = tuple(way for way in ways if way in entry.ways)
    if entry.article_id is not None:
        url, title = articles.get(entry.article_id, (entry.key, None))
        return Link(entry.key, url, ordered, entry.first_seen_at, entry.article_id, title)
    state, _reason_code, detail, published = entry.backlog
    return Link(
        entry.key,
        published or entry.key,
        ordered,
        entry.first_seen_at,
        reason=_reason(entry),
        state=state,
        detail=detail,
    )
