"""The JSON API: the same data as the pages, described by /api/openapi.json."""

from __future__ import annotations

from dataclasses import asdict

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from alerts.archive import Position, Search, StoryHit, StoryPage, by_relevance, story_page
from alerts.query import QueryError
from crawler.storage import alert_log
from crawler.storage.alert_log import LogEntry
from crawler.storage.feed import FeedItem
from newswatch.web import service
from newswatch.web.access import keyed_link
from newswatch.web.context import web
from newswatch.web.openapi import document
from newswatch.web.params import (
    FeedView,
    choice,
    format_cursor,
    page_limit,
    parse_cursor,
    positive_int,
    rule_operator,
)
from newswatch.web.present import Highlighter, iso, shorten
from newswatch.web.security import action_refused

STATES = ("pending", "sent", "dead")


def _article(request: Request, item: FeedItem, marks: Highlighter | None = None) -> dict:
    record = {
        "id": item.id,
        "story_id": item.story_id,
        "url": item.url,
        "title": item.title,
        "author": item.author,
        "published_at": iso(item.published_at),
        "fetched_at": iso(item.fetched_at),
        "language": item.language,
        "source": item.source,
        "site_name": item.site_name,
        "lead": item.lead,
        "duplicate_of_id": item.duplicate_of_id,
        "story_reason": item.story_reason,
        "story_size": item.story_size,
        "html_url": web(request).absolute(request, "article", article_id=item.id),
    }
    if marks is not None and marks.terms:
        title = marks.title(item.title)
        record["title_highlights"] = _spans(title)
        snippet = marks.summary(item)
        record["snippet"] = {"text": "".join(t for t, _ in snippet), "highlights": _spans(snippet)}
    return record


def _spans(segments: list[tuple[str, bool]]) -> list[list[int]]:
    spans, position = [], 0
    for text, hit in segments:
        if hit:
            spans.append([position, position + len(text)])
        position += len(text)
    return spans


def openapi(request: Request) -> JSONResponse:
    return JSONResponse(document(web(request).base(request)))


def index(request: Request) -> JSONResponse:
    """Every endpoint with its method and summary, as the OpenAPI description lists them."""
    base = web(request).base(request)
    spec = document(base)
    return JSONResponse(
        {
            "title": spec["info"]["title"],
            "description": spec["info"]["description"],
            "openapi_url": base + "/api/openapi.json",
            "endpoints": [
                {
                    "method": method.upper(),
                    "path": path,
                    "url": base + path,
                    "summary": operation["summary"],
                }
                for path, item in spec["paths"].items()
                for method, operation in item.items()
            ],
        }
    )


def _searched(request: Request) -> tuple[FeedView, Search | None, Position | None, int]:
    """The view, its search, the cursor and the page size a request asks for."""
    current = web(request)
    params = request.query_params
    view = FeedView.from_query(params)
    limit = page_limit(params, current.options.page_size)
    search = view.search(rule_operator(current.settings))
    after = parse_cursor(params.get("after"), by_relevance(search, view.order))
    return view, search, after, limit


def _query_error(error: QueryError) -> JSONResponse:
    return JSONResponse({"error": f"q: {error}", "position": error.position}, status_code=400)


def _page(request: Request, view: FeedView, path: str, items: list, page) -> JSONResponse:
    after = format_cursor(page.next)
    return JSONResponse(
        {
            "items": items,
            "next": after,
            "next_url": web(request).base(request) + view.link(path, after=after)
            if after
            else None,
            "partial": page.partial,
        }
    )


def articles(request: Request) -> JSONResponse:
    try:
        view, search, after, limit = _searched(request)
    except QueryError as error:
        return _query_error(error)
    page = service.feed_rows(web(request), view, search, after, limit)
    items = [_article(request, hit.item, Highlighter(hit.terms)) for hit in page.found]
    return _page(request, view, "/api/articles", items, page)


def stories(request: Request) -> JSONResponse:
    try:
        view, search, after, limit = _searched(request)
    except QueryError as error:
        return _query_error(error)
    page = StoryPage((), None)
    if not view.q or view.searchable:
        with web(request).sessions() as session:
            page = story_page(
                session,
                search,
                view.filter(),
                order=view.order or "newest",
                after=after,
                limit=limit,
            )
    items = [_story_hit(request, hit) for hit in page.stories]
    return _page(request, view, "/api/stories", items, page)


def _story_hit(request: Request, hit: StoryHit) -> dict:
    found = service.Story(hit.found.item.story_id, hit.members)
    return {
        "id": found.id,
        "size": len(found.members),
        "outlets": list(found.outlets),
        "title": found.first.title,
        "html_url": web(request).absolute(request, "story", story_id=found.id),
        "api_url": web(request).absolute(request, "api_story", story_id=found.id),
        "article": _article(request, hit.found.item, Highlighter(hit.found.terms)),
    }


def article(request: Request) -> JSONResponse:
    found = service.article(web(request), request.path_params["article_id"])
    if found is None:
        raise HTTPException(404, "no such article")
    item, story = found
    record = _article(request, item)
    record.update(
        text=item.text,
        image_url=item.image_url,
        story_members=[member.id for member in story.members],
    )
    return JSONResponse(record)


def story(request: Request) -> JSONResponse:
    found = service.story(web(request), request.path_params["story_id"])
    if found is None:
        raise HTTPException(404, "no such story")
    return JSONResponse(
        {
            "id": found.id,
            "size": len(found.members),
            "outlets": list(found.outlets),
            "title": found.first.title,
            "html_url": web(request).absolute(request, "story", story_id=found.id),
            "members": [_article(request, member) for member in found.members],
        }
    )


def rules(request: Request) -> JSONResponse:
    current = web(request)
    return JSONResponse(
        {
            "items": [
                {
                    "name": rule.name,
                    "query": rule.query,
                    "matches": rule.matches,
                    "last_matched_at": iso(rule.last_matched_at),
                    "feed_url": keyed_link(
                        current.options, current.absolute(request, "rule_feed", rule=rule.name)
                    ),
                }
                for rule in service.rules(current)
            ]
        }
    )


def _delivery(entry: LogEntry) -> dict:
    record = {
        key: iso(value) if hasattr(value, "isoformat") else value
        for key, value in asdict(entry.delivery).items()
    }
    record.update(
        story_id=entry.story_id, article_id=entry.article_id, title=entry.title, url=entry.url
    )
    return record


def deliveries(request: Request) -> JSONResponse:
    params = request.query_params
    state = choice(params, "state", STATES)
    page, counts = service.delivery_log(
        web(request), state, params.get("rule") or None, positive_int(params, "before")
    )
    return JSONResponse(
        {
            "items": [_delivery(entry) for entry in page.entries],
            "next_before": page.next_before,
            "counts": counts,
        }
    )


async def retry(request: Request) -> JSONResponse:
    """Re-queue one dead delivery; the token goes in `Authorization: Bearer …`."""
    current = web(request)
    refused = action_refused(request, current.options, None)
    if refused:
        raise HTTPException(403, refused)
    delivery_id = request.path_params["delivery_id"]

    def requeue() -> int | None:
        with current.sessions() as session:
            found = alert_log.get_delivery(session, delivery_id)
        if found is None:
            return None
        return service.retry_dead(current, [delivery_id])

    count = await run_in_threadpool(requeue)
    if count is None:
        raise HTTPException(404, "no such delivery")
    if count == 0:
        raise HTTPException(409, "only a dead delivery can be retried")
    return JSONResponse({"requeued": count})


def sources(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "items": [
                {
                    "name": row.name,
                    "kind": row.kind,
                    "url": row.url,
                    "health": row.health,
                    "articles": row.articles,
                    "last_run_at": iso(row.last_run_at),
                    "last_status": row.last_status,
                    "last_new": row.last_new,
                    "last_failed": row.last_failed,
                    "last_error": row.last_error and shorten(row.last_error, 500),
                    "consecutive_failures": row.consecutive_failures,
                }
                for row in service.sources(web(request))
            ]
        }
    )
