"""Extraction and fingerprint output of every corpus page, dumped to JSON to compare versions.

Runs crawler.fingerprints.extract_and_fingerprint over every page of the shared corpus
(as fetched from its own address, and as bench/sites.py serves a marked copy of it with
feed hints), and fingerprints each page's annotated body too. Every field the crawler
stores from these functions is kept: title, author, date, language, text, lead, site name,
image, declared canonical, band keys, evidence keys and labels, outbound links, and the
reason of a rejected page. A change meant to be a pure speed-up must leave the file equal.

    python bench/fingerprint_check.py /tmp/before.json
    python bench/fingerprint_check.py /tmp/after.json --compare /tmp/before.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import crawler.fingerprints
from bench.corpus import corpus_pages
from bench.sites import build_site
from crawler.dedupe import text_band_keys
from crawler.evidence import evidence
from crawler.extract import ExtractionError, decode_html
from crawler.fingerprints import extract_and_fingerprint, outbound_links
from crawler.items import ArticlePage, FeedHints

BASE = "http://127.0.0.1:8000"
# Feed hints that exercise the fallbacks: a feed author, a language claim, an outlet name.
HINTS = FeedHints(
    title="Feed title",
    author="Jane Doe",
    published_at=datetime(2026, 11, 1, 8, 30, tzinfo=UTC),
    summary="<p>A feed <b>summary</b></p>",
    language="fr",
    site_name="Outlet News",
)


def _record(page: ArticlePage) -> dict:
    try:
        extracted, prints = extract_and_fingerprint(page)
    except ExtractionError as error:
        return {"rejected": error.reason}
    record = {
        key: str(value) if value is not None else None for key, value in vars(extracted).items()
    }
    record["bands"] = list(prints.bands)
    record["evidence"] = [list(pair) for pair in prints.evidence]
    record["outbound_links"] = _cited.pop()
    html = decode_html(page.body, page.declared_encoding)
    record["outbound_links(html)"] = list(outbound_links(html, page.final_url))
    return record


_cited: list[list[str]] = []
_fingerprint = crawler.fingerprints.fingerprint


def _recording_fingerprint(text, links=()):
    """crawler.fingerprints.fingerprint, keeping the links extract_and_fingerprint gave it."""
    links = list(links)
    _cited.append(links)
    return _fingerprint(text, links)


def _page(url: str, body: bytes, encoding: str | None, **extra) -> ArticlePage:
    return ArticlePage("check", url, url, url, body, encoding, **extra)


def collect() -> dict[str, dict]:
    pages = corpus_pages()
    if not pages:
        raise SystemExit("corpus not found (set NEWSWATCH_CORPUS)")
    results: dict[str, dict] = {}
    crawler.fingerprints.fingerprint = _recording_fingerprint
    for page in pages:
        results[f"corpus/{page.id}"] = _record(_page(page.url, page.html, page.encoding))
        results[f"body/{page.id}"] = {
            "bands": list(text_band_keys(page.body)),
            "evidence": [list(pair) for pair in evidence(page.body).items()],
        }
    with tempfile.TemporaryDirectory() as scratch:
        site = Path(scratch)
        build_site(site, pages, base=BASE, articles=len(pages), outlets=4)
        for path in sorted(site.glob("outlet*/*.html")):
            url = f"{BASE}/{path.relative_to(site).as_posix()}"
            body = path.read_bytes()
            results[f"site/{path.name}"] = _record(_page(url, body, None))
            hinted = _page(url, body, "utf-8", hints=HINTS, language_hint="de")
            results[f"hinted/{path.name}"] = _record(hinted)
    return results


def compare(now: dict[str, dict], before: dict[str, dict]) -> int:
    differences = 0
    for name in sorted(set(now) | set(before)):
        old, new = before.get(name), now.get(name)
        if old == new:
            continue
        for field in sorted(set(old or {}) | set(new or {})):
            if (old or {}).get(field) != (new or {}).get(field):
                differences += 1
                print(f"{name} {field}:\n  before {(old or {}).get(field)!r:.300}")
                print(f"  now    {(new or {}).get(field)!r:.300}")
    return differences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--compare", type=Path, help="an earlier output to compare with")
    args = parser.parse_args()
    results = collect()
    args.output.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    stored = sum("rejected" not in record for record in results.values())
    print(f"{len(results)} records ({stored} with output) written to {args.output}")
    if args.compare:
        differences = compare(results, json.loads(args.compare.read_text(encoding="utf-8")))
        print(f"{differences} differing fields" if differences else "identical")
        raise SystemExit(1 if differences else 0)


if __name__ == "__main__":
    main()
