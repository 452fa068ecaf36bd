"""Pure story grouping: whether a new article joins a stored story on shared evidence, and why.

Articles that are not textual copies (other outlets' own write-ups, translations) join a
story when they share enough *rare* evidence (crawler.evidence) with one earlier article of
it, published within WINDOW. Rare means the key occurs in at most MAX_STORIES_PER_KEY
stories of that window and in few stories of the whole archive: "Belgium" in a Belgian
archive, or "Durchsuchungen" in German news, tells stories apart no better than "the".
Evidence is compared article to article, never pooled over a story, so a story cannot
snowball by absorbing a bit of everything; and stories are never merged afterwards, so a
story an alert fired on keeps its id. Merging two different stories is worse than
leaving one split: every threshold below leans that way (see bench/stories.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from crawler.dedupe import CLEAR_CONTAINMENT, COPY_CONTAINMENT, Overlap
from crawler.evidence import agreement, figures_differ, is_weak_number, kind

WINDOW = timedelta(hours=48)  # coverage of one event starts within a day or two
MAX_STORIES_PER_KEY = 3
# A key in more than this share of all stories is vocabulary, not evidence; never judged so
# on fewer than COMMON_FLOOR stories, so a young archive can still group anything.
COMMON_SHARE = 0.01
COMMON_FLOOR = 10
# Points per shared key of each kind, before rarity: a full name, a specific number, a
# quoted sentence or a cited link rarely recur by chance; a single capitalised word may.
WEIGHTS = {"pair": 2.0, "acro": 1.5, "name": 1.0, "num": 2.0, "quote": 3.0, "link": 3.0}
WEAK_NUMBER = 0.5
MIN_SCORE = 6.0
MIN_KEYS = 4
MIN_SHARE = 0.1  # of the smaller article's evidence keys
STRONG_KINDS = frozenset({"pair", "num", "quote", "link"})
COPY_AGREEMENT = 0.7  # of the specific keys (names, figures) of the shorter text


# Languages that capitalise every noun: between two texts in them a capitalised word is no
# sign of a name ("Durchsuchungen", "Tonnen Kokain"), so names are left out of the evidence.
NOUNS_CAPITALISED = frozenset({"de", "lb"})
NAME_KINDS = frozenset({"name", "pair"})


@dataclass(frozen=True)
class Candidate:
    """An earlier article in the window, with the rare keys it shares with the new one."""

    article_id: int
    story_id: int
    shared: frozenset[str]
    total_keys: int  # how many evidence keys the candidate has in all
    language: str | None = None


def names_are_weak(language: str | None, other: str | None) -> bool:
    """Whether capitalised words prove nothing between two texts in these languages."""
    return language == other and language in NOUNS_CAPITALISED


@dataclass(frozen=True)
class Join:
    story_id: int
    article_id: int  # the member whose evidence decided it
    score: float
    shared: tuple[str, ...]  # strongest first


def is_copy(found: Overlap, keys: Iterable[str], other_keys: Iterable[str]) -> bool:
    """Whether a text sharing `found` with a stored one is a copy of it (a near-duplicate).

    A copy keeps most of its source's shingles and its names and figures; a text sharing a
    template with another (two police reports, two court rulings) differs exactly there.
    """
    if found.containment < COPY_CONTAINMENT:
        return False  # the common case: decided before looking at any evidence
    keys, other_keys = list(keys), list(other_keys)
    if figures_differ(keys, other_keys):
        return False
    if found.containment >= CLEAR_CONTAINMENT:
        return True
    agreed = agreement(keys, other_keys)
    return agreed is not None and agreed >= COPY_AGREEMENT


def rare_keys(
    window_stories: Mapping[str, int], archive_spread: Mapping[str, int], archive_stories: int
) -> set[str]:
    """Keys that tell one story from another: few stories of the window carry them, and they
    are not common words of the archive (German nouns are capitalised like names).
    """
    common = _common_limit(archive_stories)
    return {
        key
        for key, stories in window_stories.items()
        if stories <= MAX_STORIES_PER_KEY and archive_spread.get(key, 0) <= common
    }


def common_keys(archive_spread: Mapping[str, int], archive_stories: int) -> set[str]:
    """Keys counted in so many stories of the archive that they are never rare: a lookup
    need not ask the window about them."""
    common = _common_limit(archive_stories)
    return {key for key, stories in archive_spread.items() if stories > common}


def _common_limit(archive_stories: int) -> float:
    return max(COMMON_FLOOR, COMMON_SHARE * archive_stories)


def weight(key: str, stories_with_key: int) -> float:
    """Points for one shared key: by kind, divided among the stories that carry it."""
    kind_of = kind(key)
    base = WEIGHTS.get(kind_of, 1.0)
    if kind_of == "num" and is_weak_number(key.partition(":")[2]):
        base = WEAK_NUMBER
    return base / max(1, stories_with_key)


def counted(shared: Iterable[str]) -> list[str]:
    """The shared keys that count: one name counts once.

    "Interior Minister Bernard Quintin" yields the pairs "minister bernard" and "bernard
    quintin" and the names "bernard" and "quintin": one person. Overlapping pairs count as
    one, the last of the run (the name after a title), and a name inside it not again.
    """
    keys = set(shared)
    pairs = [key[5:].split(" ") for key in keys if kind(key) == "pair"]
    starts = {first for first, _ in pairs}
    # a pair whose last word starts another pair is a title before a name: look at it last
    pairs.sort(key=lambda pair: (pair[1] in starts, pair))
    seen: set[str] = set()
    found = []
    for pair in pairs:
        if not seen & set(pair):
            found.append(f"pair:{' '.join(pair)}")
        seen.update(pair)
    found += [key for key in keys if kind(key) == "name" and key[5:] not in seen]
    return found + [key for key in keys if kind(key) not in NAME_KINDS]


def assess(
    candidate: Candidate,
    new_total: int,
    stories_per_key: Mapping[str, int],
    language: str | None = None,
) -> Join | None:
    """The join this candidate justifies, or None when the evidence is too thin."""
    keys = counted(candidate.shared)
    if names_are_weak(language, candidate.language):
        keys = [key for key in keys if kind(key) not in NAME_KINDS]
    if len(keys) < MIN_KEYS or not any(_strong(key) for key in keys):
        return None
    if len(keys) < MIN_SHARE * min(new_total, candidate.total_keys):
        return None
    points = {key: weight(key, stories_per_key.get(key, 1)) for key in keys}
    score = sum(points.values())
    if score < MIN_SCORE:
        return None
    ranked = tuple(sorted(keys, key=lambda key: (-points[key], key)))
    return Join(candidate.story_id, candidate.article_id, round(score, 2), ranked)


def _strong(key: str) -> bool:
    return kind(key) in STRONG_KINDS and not (
        kind(key) == "num" and is_weak_number(key.partition(":")[2])
    )


def choose(
    candidates: Iterable[Candidate],
    new_total: int,
    stories_per_key: Mapping[str, int],
    language: str | None = None,
) -> Join | None:
    """The best-supported join among the candidates (earliest article on a tie), or None."""
    best: Join | None = None
    for candidate in candidates:
        join = assess(candidate, new_total, stories_per_key, language)
        if join and (
            best is None or (join.score, -join.article_id) > (best.score, -best.article_id)
        ):
            best = join
    return best


def explain(join: Join, labels: Mapping[str, str], limit: int = 6) -> str:
    """Why the article joined, for people: "shares Bernard Quintin, DGSN, 2028 with #12"."""
    shown = [labels.get(key, key.partition(":")[2]) for key in join.shared[:limit]]
    more = len(join.shared) - len(shown)
    listed = ", ".join(shown) + (f" and {more} more" if more > 0 else "")
    return f"shares {listed} with #{join.article_id} (score {join.score:g})"
