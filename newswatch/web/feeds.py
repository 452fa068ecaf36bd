"""Atom feeds of the stored feed: per alert rule, per tag and per search; one entry per story.

The tag and search feeds are the rows of the feed page's view with collapse=1: each story
once, as its first stored article in the view, so an entry does not change as copies come.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote, urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from alerts.query import QueryError
from crawler.storage import alert_log
from crawler.storage.feed import FeedItem
from newswatch.web import atom, service
from newswatch.web.access import KEY
from newswatch.web.context import web
from newswatch.web.params import BadRequest, FeedView, rule_operator
from newswatch.web.present import Highlighter, safe_href, shorten

ENTRIES = 50
MEDIA_TYPE = "application/atom+xml; charset=utf-8"


def _entry(request: Request, item: FeedItem, summary: str, updated=None) -> atom.Entry:
    story = web(request).absolute(request, "story", story_id=item.story_id)
    return atom.Entry(
        id=atom.story_entry_id(item.story_id),
        title=item.title or item.url,
        updated=updated or item.published_at or item.fetched_at,
        published=item.published_at,
        link=safe_href(item.url) or story,
        related=story,
        author=item.site_name or item.source,
        summary=summary,
        language=item.language,
        categories=(item.source,),
    )


def _response(
    request: Request,
    title: str,
    html_url: str,
    entries: list[atom.Entry],
    subtitle: str | None = None,
) -> Response:
    # The id leaves out the key: it stays the same when the token (so the key) changes.
    query = sorted(
        (name, value) for name, value in request.query_params.multi_items() if name != KEY
    )
    path = request.scope["path"]
    base = web(request).base(request)
    document = atom.Feed(
        id=atom.feed_id(request.url.path + "?" + urlencode(query)),
        title=title,
        subtitle=subtitle,
        # as it was fetched (with its key, if any), at the configured address
        self_url=base + quote(path) + (f"?{request.url.query}" if request.url.query else ""),
        html_url=base + html_url,
        entries=tuple(entries),
    )
    return Response(atom.render(document), media_type=MEDIA_TYPE)


def rule_feed(request: Request) -> Response:
    """The stories a rule alerted on, newest match first."""
    current = web(request)
    rule = request.path_params["rule"]
    with current.sessions() as session:
        found = alert_log.rule_matches(session, rule, ENTRIES)
    configured = current.configured_rules()
    if not found and rule not in configured:
        raise HTTPException(404, f"no alert rule named {rule!r}")
    entries = [
        _entry(
            request,
            match.article,
            " … ".join(s["text"] for s in match.snippets) or _plain(match.article),
            match.matched_at,
        )
        for match in found
    ]
    subtitle = f"Query: {configured[rule]}" if rule in configured else None
    return _response(request, f"newswatch: rule {rule}", f"/?rule={quote(rule)}", entries, subtitle)


def tag_feed(request: Request) -> Response:
    """Stories from the sources carrying a tag (a topic), newest first."""
    tag = request.path_params["tag"]
    page = service.feed_rows(web(request), FeedView(tag=tag, collapse=True), None, limit=ENTRIES)
    label = web(request).topics().get(tag, tag)
    entries = [_entry(request, hit.item, _plain(hit.item)) for hit in page.found]
    return _response(request, f"newswatch: {label}", f"/?tag={quote(tag)}", entries)


def search_feed(request: Request) -> Response:
    """Any view of the feed page (search and filters) as a feed: subscribe to a search.

    The rows of that view with collapse=1, newest first: one entry per story."""
    current = web(request)
    view = replace(FeedView.from_query(request.query_params), collapse=True, order="")
    try:
        search = view.search(rule_operator(current.settings))
    except QueryError as error:
        raise BadRequest(f"q: {error}") from None
    entries = []
    for hit in service.feed_rows(current, view, search, limit=ENTRIES).found:
        summary = "".join(text for text, _ in Highlighter(hit.terms).summary(hit.item))
        entries.append(_entry(request, hit.item, summary))
    title = f"newswatch: {view.q}" if view.q else "newswatch: feed"
    return _response(request, title, view.link("/"), entries)


def _plain(item: FeedItem) -> str:
    return shorten(item.lead or item.text)
