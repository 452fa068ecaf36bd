"""Story benchmark: precision and recall of near-duplicates and story grouping, and lookup cost.

    .venv/bin/python -m bench.stories            # 60 events; lookups at 10,000 and 100,000
    .venv/bin/python -m bench.stories --quick    # 30 events; lookups at 2,000 and 20,000
    .venv/bin/python -m bench.stories --lookups-only --database postgresql --sizes 10000 1000000

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
import contextlib
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from itertools import combinations, pairwise
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy import text as sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench.crawl_db import fresh_database
from bench.story_eval import START, EvalArticle, demo_set, generate
from crawler import items, placement
from crawler.dedupe import BANDS, content_hash
from crawler.fingerprints import fingerprint
from crawler.sources import Source
from crawler.storage.engine import open_engine, sessions
from crawler.storage.models import Article, Story
from crawler.storage.models.stories import EvidenceCount, StoryIndex
from crawler.storage.sources import sync_sources
from crawler.storage.stories import evidence_tokens

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

    Each is a story of its own; keys carried by several count their stories, as the
    index counts keys met again. Returns the band keys of a few articles, for queries
    that find a candidate.
    """
    rng = random.Random(seed)
    make = sessions(engine)
    span = count / PER_DAY * 86400
    sample: dict[int, list[int]] = {}
    spread: dict[str, int] = defaultdict(int)
    with make() as session:
        ids = sync_sources(session, [Source("synthetic", "feed", ("https://s.example/",))])
    with make() as session, session.begin():
        session.execute(insert(Story), [{"id": i} for i in range(1, count + 1)])
        batch = 5000
        for start in range(1, count + 1, batch):
            rows, indexed = [], []
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
                keys = [f"name:k{key}" for key in _keys(rng)]
                for key in keys:
                    spread[key] += 1
                indexed.append(
                    {
                        "article_id": article_id,
                        "story_id": article_id,
                        "dated_at": dated,
                        "tokens": drawn + evidence_tokens(dated, keys),
                        "evidence": "\n".join(keys),
                    }
                )
            session.execute(insert(Article), rows)
            session.execute(insert(StoryIndex), indexed)
        counted = [{"key": key, "stories": n} for key, n in spread.items() if n > 1]
        for start in range(0, len(counted), batch):
            session.execute(insert(EvidenceCount), counted[start : start + batch])
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


def lookup_costs(
    folder: Path, sizes: tuple[int, ...], texts: list[str], rounds: int, database: str = "sqlite"
) -> dict:
    """Median µs to place one article (near-duplicate probe, then evidence in its window).

    Rounds alternate between the archives, so a busy machine slows each size alike.
    """
    with contextlib.ExitStack() as stack:
        engines, queries = {}, {}
        for size in sizes:
            found = stack.enter_context(fresh_database(database, folder, f"lookup-{size}"))
            engines[size] = found.engine()
            stack.callback(engines[size].dispose)
            began = time.perf_counter()
            queries[size] = _queries(_synthetic(engines[size], size, seed=size), texts, size)
            if database == "postgresql":
                connect = engines[size].connect
                with connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    connection.execute(sql("VACUUM ANALYZE"))  # as autovacuum would have
            print(f"  ({size:,} stored in {time.perf_counter() - began:.0f} s)", flush=True)
        timings: dict[int, list[float]] = {size: [] for size in sizes}
        for round_number in range(rounds + 1):
            for size in sizes:
                with sessions(engines[size])() as session:
                    for body, found, dated in queries[size]:
                        began = time.perf_counter()
                        placement.place(session, body, found, dated)
                        if round_number:  # the first round warms the caches
                            timings[size].append(time.perf_counter() - began)
    return {size: statistics.median(found) * 1e6 for size, found in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller set and archives")
    parser.add_argument(
        "--database", choices=("sqlite", "postgresql"), default="sqlite", help="for lookups"
    )
    parser.add_argument("--sizes", type=int, nargs="+", help="archive sizes for lookups")
    parser.add_argument("--lookups-only", action="store_true", help="skip the quality sets")
    args = parser.parse_args()
    events, sizes = (30, (2_000, 20_000)) if args.quick else (60, (10_000, 100_000))
    sizes = tuple(args.sizes or sizes)
    generated = generate(events=events)
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        if not args.lookups_only:
            (folder / "generated").mkdir()
            (folder / "demo").mkdir()
            quality("generated set", generated, folder / "generated")
            quality("demo site set (hand-labelled)", demo_set(), folder / "demo")
        print(f"\nlookup per article on {args.database} ({PER_DAY} articles a day, window ±48 h)")
        texts = [a.text for a in generated[:100]]
        costs = lookup_costs(folder, sizes, texts, rounds=5, database=args.database)
        for size in sizes:
            print(f"  {size:>9,} stored: {costs[size]:8.0f} µs (median)")
        for small, large in pairwise(sizes):
            print(f"  ratio {large:,} / {small:,}: {costs[large] / costs[small]:.2f}")


if __name__ == "__main__":
    main()
