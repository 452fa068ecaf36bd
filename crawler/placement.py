"""Where a new article goes: which stored article it copies, which story it joins, and why."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crawler import items
from crawler.dedupe import COPY_CONTAINMENT, overlap, shingles
from crawler.evidence import kind
from crawler.storage import articles, backlog, captures, stories
from crawler.stories import WINDOW, Candidate, choose, common_keys, explain, is_copy, rare_keys

MAX_NEAR_CANDIDATES = 20  # most band-sharing articles verified on their text; a bounded cost
MAX_EVIDENCE_ARTICLES = 50  # most key-sharing articles in the window assessed


class Outcome(enum.Enum):
    """What storing one article did."""

    NEW = "new"  # first time this text was seen: a new story, or a new telling of a stored one
    DUPLICATE_TEXT = "duplicate_text"  # stored, joined the story of the same or a near copy
    KNOWN_URL = "known_url"  # this canonical URL was stored already: nothing written


@dataclass(frozen=True)
class Stored:
    """The outcome of storing one article, and the article and story it ended in."""

    outcome: Outcome
    article_id: int
    story_id: int


@dataclass(frozen=True)
class Placement:
    """Where a new article belongs: an existing story (and why) or a new one (story_id None)."""

    story_id: int | None
    duplicate_of: int | None
    reason: str
    # evidence keys the story was seen to carry already: not counted again as a new telling
    known_keys: frozenset[str] = frozenset()
    # evidence keys other stories carried before (counted or in the window), with how many
    # stories of the window carried them: those new to the story are counted once more
    seen: Mapping[str, int] = field(default_factory=dict)


NEW_STORY = Placement(None, None, "first")


def add_article(session: Session, source_id: int, article: items.Article) -> Stored:
    """Store `article` once per canonical URL, in the story it belongs to.

    The story is the one of identical text, else of a near-duplicate, else of an article
    sharing rare evidence in the time window, else a new one. The key (`article.url`) and
    the fingerprint come decided from extraction; nothing here computes them again.
    Commits, so the article is durable before the caller reports it done.
    """
    existing = articles.by_url(session, article.url)
    if existing:
        backlog.forget(session, {article.link_key})
        session.commit()
        return Stored(Outcome.KNOWN_URL, existing.id, existing.story_id)

    prints = article.fingerprint
    dated_at = article.published_at or article.fetched_at
    placement = same_text(session, article.content_hash) or place(
        session, article.text, prints, dated_at, article.language
    )
    story_id = placement.story_id
    if story_id is None:
        story_id = stories.new_story(session)
    try:
        article_id = articles.insert(
            session, source_id, article, story_id, placement.duplicate_of, placement.reason
        )
        # In the article's transaction: a stored article always has its page as served
        # (a copy too: it is what that outlet published).
        if article.capture is not None:
            captures.add(session, article_id, article.capture)
        # A copy tells the story again in the same words: its keys are not new to the story.
        # A key no other story carried before is not counted: one story makes no word common.
        counted = {}
        if placement.duplicate_of is None:
            known = placement.known_keys
            counted = {key: n for key, n in placement.seen.items() if key not in known}
        stories.index(session, article_id, story_id, prints, dated_at, counted=counted)
        # Stored: the link no longer waits in the backlog (over a cap, or for a retry).
        backlog.forget(session, {article.link_key, article.url})
        session.commit()
    except IntegrityError:
        # Another writer stored the same URL between our check and our insert.
        session.rollback()
        winner = articles.by_url(session, article.url)
        if winner is None:
            raise  # not that race: some other constraint failed
        return Stored(Outcome.KNOWN_URL, winner.id, winner.story_id)
    outcome = Outcome.DUPLICATE_TEXT if placement.duplicate_of else Outcome.NEW
    return Stored(outcome, article_id, story_id)


def same_text(session: Session, content_hash: str) -> Placement | None:
    """The first stored article of identical (normalised) text: an exact copy."""
    original = articles.first_with_hash(session, content_hash)
    if original is None:
        return None
    return Placement(original.story_id, original.id, f"same text as article #{original.id}")


def place(
    session: Session,
    text: str,
    fingerprint: items.Fingerprint,
    dated_at: datetime,
    language: str | None = None,
) -> Placement:
    """The story a new article joins: a near-duplicate's, else one sharing rare evidence."""
    near = near_duplicate(session, text, fingerprint)
    if near is not None:
        return near
    return related(session, fingerprint, dated_at, language)


def near_duplicate(session: Session, text: str, fingerprint: items.Fingerprint) -> Placement | None:
    """A stored article whose text this one copies, verified exactly on shingles.

    The token index gives candidates at the cost of one index probe per band; only the few
    sharing the most bands are compared on their text. Texts alike but for their figures
    (two reports in one template) are not copies.
    """
    if not fingerprint.bands:
        return None
    candidates = stories.band_candidates(session, fingerprint.bands, MAX_NEAR_CANDIDATES)
    if not candidates:
        return None
    mine, my_keys = shingles(text), [key for key, _ in fingerprint.evidence]
    best = None
    for row in sorted(articles.texts(session, candidates), key=lambda row: row.id):
        found = overlap(mine, shingles(row.text))
        if found.containment < COPY_CONTAINMENT:
            continue  # most candidates: no need to read their evidence
        if not is_copy(found, my_keys, _text_evidence(session, row.id)):
            continue
        if best is None or found.containment > best[1].containment:
            best = (row, found)
    if best is None:
        return None
    row, found = best
    share = f"{found.containment:.0%} of the shorter text in common"
    return Placement(row.story_id, row.id, f"near-duplicate of #{row.id} ({share})")


def _text_evidence(session: Session, article_id: int) -> list[str]:
    """The evidence keys stored for an article, as its text alone gives them (no links).

    Read from the index rather than recomputed: evidence extraction is the costliest
    step of placing an article, and copies of a wire story meet it for every candidate.
    """
    return [key for key in stories.evidence_keys(session, article_id) if kind(key) != "link"]


def related(
    session: Session,
    fingerprint: items.Fingerprint,
    dated_at: datetime,
    language: str | None = None,
) -> Placement:
    """A story of the time window whose member shares enough rare evidence with this
    article, else a new story; either way with the keys other stories carried before."""
    labels = dict(fingerprint.evidence)
    if not labels:
        return NEW_STORY
    since, until = dated_at - WINDOW, dated_at + WINDOW
    spread = stories.archive_spread(session, labels)
    archive_stories = stories.story_count(session)
    # A key the archive counts as common is never rare, whatever the window holds.
    common = common_keys(spread, archive_stories)
    found = stories.window_postings(session, set(labels) - common, since, until)
    carriers: dict[str, set[int]] = defaultdict(set)
    for posting in found:
        for key in posting.shared:
            carriers[key].add(posting.story_id)
    counts = {key: len(story_ids) for key, story_ids in carriers.items()}
    seen = {key: counts.get(key, 0) for key in labels if key in spread or key in counts}
    rare = rare_keys(counts, spread, archive_stories)
    if not rare:
        return Placement(None, None, NEW_STORY.reason, seen=seen)
    # Thin overlaps cannot pass assess(); keep the best-supported few.
    sharing = [(posting, posting.shared & rare) for posting in found]
    top = sorted(
        ((posting, keys) for posting, keys in sharing if keys),
        key=lambda item: (-len(item[1]), item[0].article_id),
    )[:MAX_EVIDENCE_ARTICLES]
    languages = articles.languages(session, [posting.article_id for posting, _ in top])
    candidates = [
        Candidate(
            posting.article_id,
            posting.story_id,
            frozenset(keys),
            posting.total,
            languages.get(posting.article_id),
        )
        for posting, keys in top
    ]
    join = choose(candidates, len(labels), counts, language)
    if join is None:
        return Placement(None, None, NEW_STORY.reason, seen=seen)
    known = frozenset(
        key for posting, keys in sharing if posting.story_id == join.story_id for key in keys
    )
    return Placement(join.story_id, None, explain(join, labels), known, seen)
