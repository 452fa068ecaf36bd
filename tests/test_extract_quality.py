"""Quality gate for crawler.extract: body-text F1 over 181 real news pages must not regress."""

from __future__ import annotations

import gzip
import json
import os
import re
import statistics
from collections import Counter
from pathlib import Path

import pytest

from crawler.extract import ExtractionError, ExtractOptions, decode_html, extract_article

CORPUS = Path(
    os.environ.get("NEWSWATCH_CORPUS")
    or Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
)
AEB = CORPUS / "aeb"
# Measured 0.959 (plain) and 0.961 (fast) with trafilatura 2.3.1; the floor leaves room for
# noise from dependency updates, not for a real regression.
F1_FLOOR = 0.94
_TOKEN = re.compile(r"\W+")


def tokens(text: str) -> Counter[str]:
    return Counter(token for token in _TOKEN.split(text.lower()) if token)


def token_f1(extracted: str, truth: str) -> float:
    """Multiset precision and recall of lower-cased word tokens, as the corpus README defines."""
    got, want = tokens(extracted), tokens(truth)
    common = sum((got & want).values())
    if not common:
        return 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def test_token_f1() -> None:
    assert token_f1("The cat sat.", "the CAT sat") == 1.0
    assert token_f1("", "the cat") == 0.0
    assert token_f1("the the cat", "the cat") == pytest.approx(0.8)


@pytest.fixture(scope="module")
def corpus() -> list[dict[str, str]]:
    if not (AEB / "gt.jsonl").is_file():
        pytest.skip(f"extraction corpus not found at {AEB} (set NEWSWATCH_CORPUS to its parent)")
    pages = []
    with (AEB / "gt.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            raw = gzip.decompress((AEB / record["html"]).read_bytes())
            record["html_text"] = decode_html(raw, record["encoding"])
            pages.append(record)
    return pages


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
