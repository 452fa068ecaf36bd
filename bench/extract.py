"""Benchmark: speed and body-text F1 of crawler.extract over the real-page corpus (prints only)."""

from __future__ import annotations

import gzip
import json
import os
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.extract import ExtractionError, ExtractOptions, decode_html, extract_article

CORPUS = Path(
    os.environ.get(
        "NEWSWATCH_CORPUS", Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
    )
)
_TOKEN = re.compile(r"\W+")


def tokens(text: str) -> Counter[str]:
    return Counter(token for token in _TOKEN.split(text.lower()) if token)


def token_f1(extracted: str, truth: str) -> float:
    """Body token F1 as the corpus README defines it: multiset precision and recall."""
    got, want = tokens(extracted), tokens(truth)
    common = sum((got & want).values())
    if not common:
        return 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def load_pages(root: Path) -> list[tuple[str, str, str]]:
    """(url, html, ground-truth body) for every page in corpus/aeb."""
    pages = []
    with (root / "gt.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            body = gzip.decompress((root / record["html"]).read_bytes())
            pages.append((record["url"], decode_html(body, record["encoding"]), record["body"]))
    return pages


def run(pages: list[tuple[str, str, str]], options: ExtractOptions) -> tuple[list[float], float]:
    """Per-page milliseconds, and mean F1 (a page that fails to extract scores 0)."""
    millis, scores = [], []
    for url, html, truth in pages:
        start = time.perf_counter()
        try:
            text = extract_article(html, url, options=options).text
        except ExtractionError:
            text = ""
        millis.append((time.perf_counter() - start) * 1000)
        scores.append(token_f1(text, truth))
    return millis, statistics.mean(scores)


def main() -> None:
    root = CORPUS / "aeb"
    if not (root / "gt.jsonl").exists():
        print(f"corpus not found at {root} (set NEWSWATCH_CORPUS)")
        return
    pages = load_pages(root)
    extract_article(pages[0][1], pages[0][0])  # warm up: language model, lazy imports
    print(f"{len(pages)} pages from {root}, one process")
    print(f"{'mode':<8} {'pages/s':>8} {'ms mean':>8} {'ms median':>10} {'F1':>6}")
    for name, options in (("plain", ExtractOptions()), ("fast", ExtractOptions(fast=True))):
        millis, f1 = run(pages, options)
        rate = len(pages) / (sum(millis) / 1000)
        mean, median = statistics.mean(millis), statistics.median(millis)
        print(f"{name:<8} {rate:>8.1f} {mean:>8.1f} {median:>10.1f} {f1:>6.3f}")


if __name__ == "__main__":
    main()
