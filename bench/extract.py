"""Benchmark: speed and body-text F1 of crawler.extract over the real-page corpus (prints only)."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import corpus_dir, corpus_pages, token_f1
from crawler.extract import ExtractionError, ExtractOptions, decode_html, extract_article


def load_pages() -> list[tuple[str, str, str]]:
    """(url, decoded html, ground-truth body) for every page of the corpus."""
    return [(p.url, decode_html(p.html, p.encoding), p.body) for p in corpus_pages()]


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
    root = corpus_dir()
    pages = load_pages()
    if not pages:
        print(f"corpus not found at {root} (set NEWSWATCH_CORPUS)")
        return
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
