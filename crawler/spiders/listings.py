"""Read listing pages (section fronts, tag pages) into article links."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from crawler.items import FeedHints, Link


def read_listing(
    html: str, url: str, *, selector: str | None = None, pattern: str | None = None
) -> list[Link]:
    """Article links of a listing page.

    With `selector`, the links are the elements it picks (or the links inside them);
    without, every link on the page's own host. `pattern`, a regex, narrows either.
    """
    page = Selector(text=html, base_url=url, type="html")  # never guessed as JSON
    base = page.css("base::attr(href)").get() or url
    chosen = page.css(selector) if selector else page.css("a[href]")
    wanted = re.compile(pattern) if pattern else None
    own_host = urlsplit(url).hostname
    links: dict[str, Link] = {}
    for element in chosen:
        anchor = element if element.root.tag == "a" else element.css("a[href]")
        href = anchor.attrib.get("href") if hasattr(anchor, "attrib") else None
        if not href:
            continue
        absolute = urljoin(base, href.strip())
        if urlsplit(absolute).scheme not in ("http", "https"):
            continue  # javascript:, mailto: and the like are never articles
        if selector is None and urlsplit(absolute).hostname != own_host:
            continue
        if wanted and not wanted.search(absolute):
            continue
        title = " ".join(" ".join(anchor.css("::text").getall()).split()) or None
        links.setdefault(absolute, Link(absolute, FeedHints(title=title)))
    return list(links.values())
