"""Pure: which of a site's checked feeds and sitemaps to follow, and why (the others too).

At most one sitemap and one feed. A news sitemap first: it lists every recent article
with its date and stays small. Else the top-level sitemap with the newest articles, else
a sitemap index (the crawler reads its parts, which change as the site grows; a part is
never chosen alone unless it is a news sitemap). The main feed is the one whose newest
article is the site's newest (a section feed cannot be newer than the feed of everything).
Feeds of readers' comments are never chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from crawler.discovery.homepage import COMMENTS

if TYPE_CHECKING:  # only its attributes are used here; probe.py imports this module
    from crawler.discovery.probe import Probe

_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Verdict:
    probe: Probe
    chosen: bool
    why: str


def choose(probes: list[Probe]) -> list[tuple[Probe, str]]:
    """The chosen ones, each with why."""
    return [(v.probe, v.why) for v in judge(probes) if v.chosen]


def judge(probes: list[Probe]) -> list[Verdict]:
    """Every probe with whether it is chosen and why: the chosen first, then the others."""
    unique: dict[str, Probe] = {}
    for found in probes:
        unique.setdefault(found.url, found)
    usable = [p for p in unique.values() if p.problem is None]
    sitemap = _sitemap(usable)
    feeds = [p for p in usable if p.kind == "feed" and not is_comments(p)]
    feed = max(feeds, key=_freshness) if feeds else None
    chosen: list[Verdict] = []
    if sitemap:
        chosen.append(Verdict(sitemap, True, _sitemap_why(sitemap, usable)))
    if feed:
        why = (
            "the main feed: its newest article is the site's newest"
            if len(feeds) > 1
            else "the site's feed"
        )
        chosen.append(Verdict(feed, True, why))
    picked = [v.probe for v in chosen]
    covered = {link for p in picked for link in p.links}
    if sitemap and sitemap.children:
        covered |= {link for p in usable if p.candidate.via == sitemap.url for link in p.links}
    others = [
        Verdict(found, False, _why_not(found, unique, picked, covered))
        for found in probes
        if not any(found is p for p in picked)
    ]
    return chosen + others


def is_comments(found: Probe) -> bool:
    """A feed of readers' comments, by its address, its link's title or its own title."""
    return found.candidate.comments or bool(COMMENTS.search(found.title or ""))


def _sitemap(usable: list[Probe]) -> Probe | None:
    sitemaps = [p for p in usable if p.kind == "sitemap"]
    news = [p for p in sitemaps if p.news]
    if news:
        return max(news, key=_freshness)
    top = [p for p in sitemaps if p.candidate.via is None]
    lists = [p for p in top if p.items]
    if lists:
        return max(lists, key=_freshness)
    indexes = [p for p in top if p.children]
    return max(indexes, key=lambda p: len(p.children)) if indexes else None


def _sitemap_why(sitemap: Probe, usable: list[Probe]) -> str:
    if sitemap.news:
        return "a news sitemap: each recent article with its date, small to read often"
    if sitemap.children:
        return (
            f"a sitemap index: the crawler reads its {len(sitemap.children)} sitemaps "
            "(new parts too, as the site adds them)"
        )
    others = [p for p in usable if p.kind == "sitemap" and p.items and p is not sitemap]
    return "the sitemap with the newest articles" if others else "the site's sitemap"


def _why_not(found: Probe, unique: dict[str, Probe], picked: list[Probe], covered: set) -> str:
    if found.problem:
        return found.problem
    first = unique[found.url]
    if first is not found:
        return f"the same address as {first.candidate.url} ({first.candidate.how})"
    if found.kind == "feed" and is_comments(found):
        return "a feed of readers' comments, not of articles"
    parent = found.candidate.via
    if parent and any(p.url == parent for p in picked):
        return "a part of the chosen sitemap index"
    children = [p for p in picked if p.candidate.via == found.url]
    if children:
        return f"a sitemap index: its part {children[0].url} is chosen"
    if parent:
        return f"a part of the sitemap index {parent}, which changes as the site grows"
    same = next((p for p in picked if p.links and set(p.links) == set(found.links)), None)
    if same:
        return f"the same {found.items} links as the chosen {same.url}"
    fresh = [link for link in found.links if link not in covered]
    if found.links and not fresh:
        return "its links are all in the chosen ones"
    if found.children:
        return f"a sitemap index of {len(found.children)} sitemaps; another sitemap is preferred"
    if found.kind == "sitemap":
        return f"another sitemap ({len(fresh)} links not in the chosen ones); one is followed"
    return (
        f"another feed: {len(fresh)} of its {found.items} items are not in the chosen ones "
        "(a section? add it if you follow that section)"
    )


def _freshness(found: Probe) -> tuple[datetime, int]:
    return (found.newest or _NEVER, found.items)
