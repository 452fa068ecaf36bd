"""Render the demo site's HTML: article and listing pages inside realistic boilerplate."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from newswatch.demo.catalog import Article, Outlet

DISCLAIMER = (
    "Fictional sample content served by the newswatch demo site. "
    "It was not published by the outlet named here."
)


def article_page(
    outlet: Outlet,
    article: Article,
    base_url: str,
    related: list[Article],
    labels: Mapping[str, Any],
) -> str:
    canonical = base_url + article.path
    published = article.published.isoformat(timespec="seconds")
    paragraphs = "\n".join(f"<p>{escape(p)}</p>" for p in article.paragraphs)
    related_items = "\n".join(
        f'<li><a href="{escape(other.path)}">{escape(other.title)}</a></li>' for other in related
    )
    head = f"""<title>{escape(article.title)} | {escape(outlet.title)}</title>
<meta name="description" content="{escape(article.summary)}">
<meta name="author" content="{escape(article.author)}">
<link rel="canonical" href="{escape(canonical)}">
<meta property="og:type" content="article">
<meta property="og:title" content="{escape(article.title)}">
<meta property="og:url" content="{escape(canonical)}">
<meta property="og:site_name" content="{escape(outlet.title)}">
<meta property="og:image" content="{escape(base_url)}/static/{outlet.name}/cover.jpg">
<meta property="article:published_time" content="{published}">
<meta property="article:author" content="{escape(article.author)}">"""
    main = f"""<main>
<article class="story">
<h1>{escape(article.title)}</h1>
<p class="byline">{escape(labels["by"])} <span class="author">{escape(article.author)}</span>
 · <time datetime="{published}">{article.published:%d.%m.%Y %H:%M}</time></p>
{paragraphs}
</article>
<aside class="related">
<h2>{escape(labels["related"])}</h2>
<ul>
{related_items}
</ul>
</aside>
</main>"""
    return _page(outlet, article.language, head, main, labels)


def listing_page(
    outlet: Outlet, articles: list[Article], base_url: str, labels: Mapping[str, Any]
) -> str:
    """The outlet's front page: teasers (h2.teaser a) among links that are not articles."""
    cards = []
    for index, article in enumerate(articles):
        href = article.path
        if index == 0:
            href = base_url + article.path  # some CMSs write absolute links
        elif index == 1:
            href = article.path + "#comments"  # a teaser that jumps to the comments
        cards.append(f"""<div class="card">
<h2 class="teaser"><a href="{escape(href)}">{escape(article.title)}</a></h2>
<p class="chapo">{escape(article.summary)}</p>
<p class="meta"><time datetime="{article.published.isoformat(timespec="seconds")}">\
{article.published:%d.%m.%Y}</time> · <a class="comments" href="{escape(article.path)}#comments">\
{escape(labels["comments"])}</a></p>
</div>""")
    most_read = "\n".join(
        f'<li><a href="{escape(a.path)}">{escape(a.title)}</a></li>' for a in articles[:3]
    )
    head = f"""<title>{escape(outlet.title)}</title>
<link rel="canonical" href="{escape(base_url)}/{outlet.name}/">
<meta property="og:site_name" content="{escape(outlet.title)}">"""
    main = f"""<main>
<section class="top-stories">
<h1>{escape(labels["top"])}</h1>
{chr(10).join(cards)}
</section>
<aside class="most-read">
<h3>{escape(labels["most_read"])}</h3>
<ol>
{most_read}
</ol>
</aside>
<nav class="pagination"><a href="/{outlet.name}/page/2/">{escape(labels["next_page"])}</a></nav>
</main>"""
    return _page(outlet, outlet.language, head, main, labels)


def _page(outlet: Outlet, language: str, head: str, main: str, labels: Mapping[str, Any]) -> str:
    direction = "rtl" if language == "ar" else "ltr"
    nav = "\n".join(
        f'<li><a href="/{outlet.name}/{slug + "/" if slug else ""}">{escape(label)}</a></li>'
        for label, slug in labels["nav"]
    )
    footer_links = " · ".join(
        f'<a href="/{outlet.name}/{slug}.html">{escape(label)}</a>'
        for label, slug in labels["footer"]
    )
    return f"""<!DOCTYPE html>
<html lang="{escape(language)}" dir="{direction}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{head}
<style>body{{font-family:sans-serif;max-width:48rem;margin:0 auto;padding:1rem}}</style>
</head>
<body>
<div id="cookie-banner" class="cookie-consent" role="dialog">
<p>{escape(labels["cookie"])}</p><button type="button">{escape(labels["accept"])}</button>
</div>
<header class="site-header">
<a class="logo" href="/{outlet.name}/">{escape(outlet.title)}</a>
<nav class="main-nav"><ul>
{nav}
</ul></nav>
</header>
{main}
<footer class="site-footer">
<p>© 2026 {escape(outlet.title)} — {escape(labels["rights"])}</p>
<p class="disclaimer">{escape(DISCLAIMER)}</p>
<p class="footer-links">{footer_links}</p>
</footer>
</body>
</html>
"""
