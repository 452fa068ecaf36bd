"""Build realistic benchmark sites from the shared corpus of real news pages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from bench.corpus import CorpusPage


def _marked(html: bytes, number: int) -> bytes:
    """A copy of a page made unique (so exact de-duplication keeps it) in its last paragraph."""
    marker = f"<p>Reference {number:05d} of the benchmark edition.</p>".encode()
    position = html.rfind(b"</p>")
    if position < 0:
        return html
    return html[: position + 4] + marker + html[position + 4 :]


def build_site(
    directory: Path,
    pages: list[CorpusPage],
    *,
    base: str = "",
    articles: int,
    outlets: int,
    bases: Sequence[str] | None = None,
) -> list[dict]:
    """Write `articles` pages behind `outlets` RSS feeds and sitemaps; returns source dicts.

    The site is static: any file server can serve it (the benchmark uses one in
    another process, so its CPU is not counted as the crawler's). Every outlet is
    at `base`, or, given `bases`, outlet i at `bases[i % len(bases)]` (one host
    per outlet, so per-host politeness applies per outlet).
    """
    if not bases and not base:
        raise ValueError("build_site needs base or bases")
    start = datetime(2026, 11, 1, tzinfo=UTC)
    per_outlet: dict[int, list[tuple[str, CorpusPage, datetime]]] = {}
    for number in range(articles):
        page = pages[number % len(pages)]
        outlet = number % outlets
        path = f"outlet{outlet:02d}/{number:05d}-{page.id}.html"
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_marked(page.html, number))
        when = start + timedelta(minutes=number)
        per_outlet.setdefault(outlet, []).append((path, page, when))
    sources = []
    for outlet, entries in per_outlet.items():
        name = f"outlet{outlet:02d}"
        at = bases[outlet % len(bases)] if bases else base
        kind = "sitemap" if outlet % 4 == 3 else "feed"
        if kind == "feed":
            (directory / name / "rss.xml").write_text(_rss(name, entries, at), encoding="utf-8")
            url = f"{at}/{name}/rss.xml"
        else:
            (directory / name / "sitemap.xml").write_text(_sitemap(entries, at), encoding="utf-8")
            url = f"{at}/{name}/sitemap.xml"
        sources.append({"name": name, "kind": kind, "url": url})
    return sources


def _rss(name: str, entries, base: str) -> str:
    items = "".join(
        f"<item><title>{escape(page.id)}</title>"
        f"<link>{base}/{path}?utm_source=rss</link>"
        f"<pubDate>{format_datetime(when)}</pubDate></item>"
        for path, page, when in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{name}</title>{items}</channel></rss>"
    )


def _sitemap(entries, base) -> str:
    urls = "".join(
        f"<url><loc>{base}/{path}</loc><lastmod>{when.isoformat()}</lastmod></url>"
        for path, _page, when in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    )
