"""The shared corpus of real news pages with annotated bodies, and the body-token F1 on it."""

from __future__ import annotations

import gzip
import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_TOKEN = re.compile(r"\W+")


def corpus_dir() -> Path:
    """The `aeb` folder: $NEWSWATCH_CORPUS/aeb, else ../shared/corpus/aeb beside the repo."""
    parent = os.environ.get("NEWSWATCH_CORPUS") or ROOT.parent / "shared" / "corpus"
    return Path(parent) / "aeb"


@dataclass(frozen=True)
class CorpusPage:
    id: str
    url: str
    encoding: str
    html: bytes  # as saved, undecoded
    body: str  # the human-annotated article text


def corpus_pages(folder: Path | None = None) -> list[CorpusPage]:
    """Every page of the corpus; an empty list where it is absent."""
    folder = folder or corpus_dir()
    if not (folder / "gt.jsonl").is_file():
        return []
    pages = []
    for line in (folder / "gt.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        html = gzip.decompress((folder / entry["html"]).read_bytes())
        pages.append(CorpusPage(entry["id"], entry["url"], entry["encoding"], html, entry["body"]))
    return pages


def tokens(text: str) -> Counter[str]:
    return Counter(token for token in _TOKEN.split(text.lower()) if token)


def token_f1(extracted: str, truth: str) -> float:
    """Body token F1 as the corpus README defines it: multiset precision and recall of
    lower-cased tokens split on non-word characters."""
    got, want = tokens(extracted), tokens(truth)
    common = sum((got & want).values())
    if not common:
        return 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return 2 * precision * recall / (precision + recall)
