"""Story benchmark: precision and recall of near-duplicates and story grouping, and lookup cost.

    .venv/bin/python -m bench.stories            # 60 events; lookups at 10,000 and 100,000
    .venv/bin/python -m bench.stories --quick    # 30 events; lookups at 2,000 and 20,000

Quality runs the labelled sets of bench/story_eval.py through the real storage path
(crawler.placement.add_article on SQLite), in publication order. Pairs are scored:
near-duplicate precision is the share of pairs joined as copies that are labelled copies;
grouping precision the share of pairs put in one story that are labelled one event.

Lookup cost places new articles against an archive of synthetic fingerprints bulk-inserted
at a steady rate over time (like a growing archive: more days, not denser ones), once at
each size. Prints figures and ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from itertools import combinations
from pathlib import Path

from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench.story_eval import START, EvalArticle, demo_set, generate
from crawler import items, placement
from crawler.dedupe import BANDS, content_hash
from crawler.fingerprints import fingerprint
from crawler.sources import Source
from crawler.storage.engine import open_engine, sessions
from crawler.storage.models import Article, Story
from crawler.storage.models.stories import ArticleBand, ArticleEvidence
from crawler.storage.sources import sync_sources

PER_DAY = 100  # synthetic articles per day: the density a lookup's time window sees
KEYS_PER_ARTICLE = 30


def _pairs(groups: dict[int, str]) -> set[tuple[int, int]]:
    by_label: dict[str, list[int]] = defaultdict(list)
    for item, label in groups.items():
        by_label[label].append(item)
    return {pair for members in by_label.values() for pair in combinations(sorted(members), 2)}


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.3f} ({part}/{whole})" if whole else "n/a (0 pairs)"


def store_all(folder: Path, articles: list[EvalArticle]) -> dict[int, tuple[int, int | None]]:
    """Store the set in order; returns position → (story id, duplicate-of position)."""
    engine = open_engine(f"sqlite:///{folder / 'quality.db'}")
    make = sessions(engine)
    outlets = sorted({article.outlet for article in articles})
    with make() as session:
        ids = sync_sources(
            session, [Source(o, "feed", (f"https://{o}.example/",)) for o in outlets]
        )
        placed: dict[int, tuple[int, int | None]] = {}
        position_of: dict[int, int] = {}
        for position, article in enumerate(articles):
            url = f"https://{article.outlet}.example/{position}"
            stored = placement.add_article(
                session,
                ids[article.outlet],
                items.Article(
                    source=article.outlet,
                    url=url,
                    link_key=url,
                    title=article.title,
                    author=None,
                    published_at=article.published_at,
                    language=article.language,
                    text=article.text,
                    lead=None,
                    site_name=None,
                    image_url=None,
                    content_hash=content_hash(article.text),
                    fetched_at=article.published_at,
                    fingerprint=fingerprint(article.text),
                ),
            )
            duplicate_of = session.scalar(
                select(Article.duplicate_of_id).where(Article.id == stored.article_id)
            )
            position_of[stored.article_id] = position
            placed[position] = (stored.story_id, position_of.get(duplicate_of))
    engine.dispose()
    return placed


def quality(name: str, articles: list[EvalArticle], folder: Path) -> None:
    placed = store_all(folder, articles)
    # copies: follow duplicate-of links to the first of each chain
    root = {}
    for position in range(len(articles)):
        parent = placed[position][1]
        root[position] = root[parent] if parent is not None else position
    predicted_copies = _pairs({p: str(r) for p, r in root.items()})
    true_copies = _pairs({p: a.copies for p, a in enumerate(articles)})
    predicted_story = _pairs({p: str(s) for p, (s, _) in placed.items()})
    true_story = _pairs({p: a.story for p, a in enumerate(articles)})
    hit_copies, hit_story = predicted_copies & true_copies, predicted_story & true_story
    languages = {p: a.language for p, a in enumerate(articles)}
    cross = {pair for pair in true_story if languages[pair[0]] != languages[pair[1]]}
    own = {p for p, a in enumerate(articles) if a.role in ("own", "translation")}
    told = {pair for pair in true_story - cross if pair[0] in own or pair[1] in own}
    print(f"\n{name}: {len(articles)} articles, {len({a.story for a in articles})} stories")
    print(f"  near-duplicates   precision {_ratio(len(hit_copies), len(predicted_copies))}")
    print(f"                    recall    {_ratio(len(hit_copies), len(true_copies))}")
    print(f"  story grouping    precision {_ratio(len(hit_story), len(predicted_story))}")
    print(f"                    recall    {_ratio(len(hit_story), len(true_story))}")
    copies_kept = _ratio(len(hit_story & true_copies), len(true_copies))
    print(f"    recall of copy pairs               {copies_kept}")
    print(f"    recall of same-language write-ups  {_ratio(len(hit_story & told), len(told))}")
    print(f"    recall of cross-language pairs     {_ratio(len(hit_story & cross), len(cross))}")
    wrong = sorted(predicted_story - true_story)[:5]
    for a, b in wrong:
        print(f"    merged wrongly: {articles[a].story} + {articles[b].story}")


def _keys(rng: random.Random) -> set[int]:
    """Evidence keys drawn with a heavy tail: a few in nearly every article, most rare."""
    return {int(rng.paretovariate(0.8)) % 200_000 for _ in range(KEYS_PER_ARTICLE)}


def _synthetic(engine, count: int, seed: int) -> dict[int, list[int]]:
    """`count` stored articles with random band keys and heavy-tailed evidence keys.

    Returns the band keys of a few articles, for queries that find a candidate.
    """
    rng = random.Random(seed)
    make = sessions(engine)
    span = count / PER_DAY * 86400
    sample: dict[int, list[int]] = {}
    with make() as session:
        ids = sync_sources(session, [Source("synthetic", "feed", ("https://s.example/",))])
    with make() as session, session.begin():
        session.execute(insert(Story), [{"id": i} for i in range(1, count + 1)])
        batch = 5000
        for start in range(1, count + 1, batch):
            rows, bands, keys = [], [], []
            for article_id in range(start, min(count + 1, start + batch)):
                dated = START + timedelta(seconds=span * article_id / count)
                rows.append(
                    {
                        "id": article_id,
                        "source_id": ids["synthetic"],
                        "url": f"https://s.example/{article_id}",
                        "link_key": "-",
                        "text": "-",
                        "content_hash": f"{article_id:064x}",
                        "story_id": article_id,
                        "story_reason": "first",
                        "fetched_at": dated,
                        "stored_at": dated,
                    }
                )
                drawn = [rng.getrandbits(63) for _ in range(BANDS)]
                if article_id % 97 == 0:
                    sample[article_id] = drawn
                bands += [{"key": key, "article_id": article_id} for key in drawn]
                keys += [
                    {
                        "article_id": article_id,
                        "key": f"name:k{key}",
                        "story_id": article_id,
                        "dated_at": dated,
                    }
                    for key in _keys(rng)
                ]
            session.execute(insert(Article), rows)
            session.execute(insert(ArticleBand), bands)
            session.execute(insert(ArticleEvidence), keys)
    return sample


def _queries(sample: dict[int, list[int]], texts: list[str], size: int) -> list[tuple]:
    """Queries with evidence keys from the archive's own distribution; every other one
    shares a few band keys with a stored article, so candidates are fetched and verified too.
    """
    rng = random.Random(1)
    span = timedelta(days=size / PER_DAY)
    queries = []
    for index, text in enumerate(texts):
        bands = [rng.getrandbits(63) for _ in range(BANDS)]
        if index % 2:
            bands[:4] = rng.choice(list(sample.values()))[:4]
        evidence = tuple((f"name:k{key}", f"k{key}") for key in _keys(rng))
        # dated inside the archive, so its window is as full as any
        queries.append(
            (
                text,
                items.Fingerprint(tuple(bands), evidence),
                START + span * ((index % 97 + 1) / 98),
            )
        )
    return queries


def lookup_costs(folder: Path, sizes: tuple[int, ...], texts: list[str], rounds: int) -> dict:
    """Median µs to place one article (near-duplicate probe, then evidence in its window).

    Rounds alternate between the archives, so a busy machine slows each size alike.
    """
    engines, queries = {}, {}
    for size in sizes:
        engines[size] = open_engine(f"sqlite:///{folder / f'lookup-{size}.db'}")
        queries[size] = _queries(_synthetic(engines[size], size, seed=size), texts, size)
    timings: dict[int, list[float]] = {size: [] for size in sizes}
    for round_number in range(rounds + 1):
        for size in sizes:
            with sessions(engines[size])() as session:
                for text, found, dated in queries[size]:
                    began = time.perf_counter()
                    placement.place(session, text, found, dated)
                    if round_number:  # the first round warms the caches
                        timings[size].append(time.perf_counter() - began)
    for engine in engines.values():
        engine.dispose()
    return {size: statistics.median(found) * 1e6 for size, found in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller set and archives")
    args = parser.parse_args()
    events, sizes = (30, (2_000, 20_000)) if args.quick else (60, (10_000, 100_000))
    generated = generate(events=events)
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        (folder / "generated").mkdir()
        (folder / "demo").mkdir()
        quality("generated set", generated, folder / "generated")
        quality("demo site set (hand-labelled)", demo_set(), folder / "demo")
        print(f"\nlookup per article ({PER_DAY} articles a day, window ±48 h)")
        costs = lookup_costs(folder, sizes, [a.text for a in generated[:100]], rounds=5)
        for size in sizes:
            print(f"  {size:>7,} stored: {costs[size]:8.0f} µs (median)")
        small, large = sizes
        print(f"  ratio {large:,} / {small:,}: {costs[large] / costs[small]:.2f}")


if __name__ == "__main__":
    main()
