"""Quality gate for crawler.extract: body-text F1 over 181 real news pages must not regress."""

from __future__ import annotations

import statistics

import pytest

from bench.corpus import corpus_dir, corpus_pages, token_f1
from crawler.extract import ExtractionError, ExtractOptions, decode_html, extract_article

AEB = corpus_dir()
# Measured 0.959 (plain) and 0.961 (fast) with trafilatura 2.3.1; the floor leaves room for
# noise from dependency updates, not for a real regression.
F1_FLOOR = 0.94


def test_token_f1() -> None:
    assert token_f1("The cat sat.", "the CAT sat") == 1.0
    assert token_f1("", "the cat") == 0.0
    assert token_f1("the the cat", "the cat") == pytest.approx(0.8)


@pytest.fixture(scope="module")
def corpus() -> list[dict[str, str]]:
    pages = corpus_pages(AEB)
    if not pages:
        pytest.skip(f"extraction corpus not found at {AEB} (set NEWSWATCH_CORPUS to its parent)")
    return [
        {"id": p.id, "url": p.url, "body": p.body, "html_text": decode_html(p.html, p.encoding)}
        for p in pages
    ]


@pytest.mark.parametrize(
    "options", [ExtractOptions(), ExtractOptions(fast=True)], ids=["plain", "fast"]
)
def test_mean_body_f1_stays_above_floor(
    corpus: list[dict[str, str]], options: ExtractOptions
) -> None:
    scores: dict[str, float] = {}
    for record in corpus:
        try:
            text = extract_article(record["html_text"], record["url"], options=options).text
        except ExtractionError:
            text = ""  # a page we fail to extract counts as a miss, not as absent
        scores[record["id"]] = token_f1(text, record["body"])
    assert len(scores) == 181
    mean = statistics.mean(scores.values())
    worst = sorted(scores.items(), key=lambda item: item[1])[:5]
    assert mean >= F1_FLOOR, (
        f"mean body F1 {mean:.3f} fell below {F1_FLOOR} with {options}; worst pages: "
        + ", ".join(f"{page_id} {score:.2f}" for page_id, score in worst)
    )
