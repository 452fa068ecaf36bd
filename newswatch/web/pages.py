"""The HTML pages: the feed, a story, an article, the alert log (with retry) and sources."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from alerts.archive import by_relevance
from alerts.query import QueryError
from crawler.storage.feed import FeedItem
from newswatch.web import evidence, service
from newswatch.web.access import keyed_link
from newswatch.web.context import Web, web
from newswatch.web.params import (
    BadRequest,
    FeedView,
    choice,
    form_fields,
    format_cursor,
    parse_cursor,
    positive_int,
    rule_operator,
)
from newswatch.web.present import Highlighter, Segments
from newswatch.web.security import action_refused

STATES = ("pending", "sent", "dead")


@dataclass(frozen=True)
class Row:
    item: FeedItem
    title: Segments
    summary: Segments


def render_page(request: Request, template: str, status: int = 200, **context) -> Response:
    current: Web = web(request)
    context.setdefault("view", FeedView())
    context.update(options=current.options, path=request.url.path)
    return current.templates.TemplateResponse(request, template, context, status)


def feed(request: Request) -> Response:
    current = web(request)
    view = FeedView.from_query(request.query_params)
    try:
        search = view.search(rule_operator(current.settings))
    except QueryError as error:
        return _feed_page(request, view, [], 400, query_error=error)
    after = parse_cursor(request.query_params.get("after"), by_relevance(search, view.order))
    found = service.feed_rows(current, view, search, after)
    rows = []
    for hit in found.found:
        marks = Highlighter(hit.terms)
        rows.append(
            Row(hit.item, marks.title(hit.item.title or hit.item.url), marks.summary(hit.item))
        )
    return _feed_page(
        request,
        view,
        rows,
        200,
        partial=found.partial,
        examined=found.examined,
        next_link=view.link("/", after=format_cursor(found.next)) if found.next else None,
        first_link=view.link("/") if after else None,
    )


def _feed_page(
    request: Request, view: FeedView, rows: list[Row], status: int, **context
) -> Response:
    current = web(request)
    atom = (
        f"/feeds/rules/{view.rule}"
        if view.rule and view.params() == [("rule", view.rule)]
        else view.link("/feeds/search")
    )
    error = context.pop("query_error", None)
    context.setdefault("next_link", None)
    context.setdefault("first_link", None)
    return render_page(
        request,
        "feed.html",
        status,
        title="Search: " + view.q if view.q else "Feed",
        view=view,
        rows=rows,
        unsearchable=bool(view.q) and not view.searchable,
        query_error=error and _marked_error(view.q, error),
        atom_link=keyed_link(current.options, atom),
        csv_link=keyed_link(current.options, view.link("/export.csv")),
        jsonl_link=keyed_link(current.options, view.link("/export.jsonl")),
        choices=service.choices(current),
        **{"partial": False, "examined": 0, **context},
    )


@dataclass(frozen=True)
class QueryProblem:
    """A query that does not parse: the message, and the query cut where the problem is."""

    message: str
    before: str
    at: str  # the character at the position (empty: the end of the query)
    after: str


def _marked_error(text: str, error: QueryError) -> QueryProblem:
    if error.position is None:
        return QueryProblem(str(error), text, "", "")
    at = error.position - 1
    return QueryProblem(str(error), text[:at], text[at : at + 1], text[at + 1 :])


def article(request: Request) -> Response:
    found = service.article(web(request), request.path_params["article_id"])
    if found is None:
        raise HTTPException(404, "no such article")
    item, story = found
    capture = evidence.capture_facts(web(request), item.id)
    versions = service.article_versions(web(request), item.id)
    return render_page(
        request,
        "article.html",
        title=item.title or item.url,
        item=item,
        story=story,
        capture=capture,
        versions=versions,
    )


def story(request: Request) -> Response:
    found = service.story(web(request), request.path_params["story_id"])
    if found is None:
        raise HTTPException(404, "no such story")
    title = found.first.title or found.first.url
    return render_page(request, "story.html", title=title, story=found)


def alert_log(request: Request) -> Response:
    current = web(request)
    params = request.query_params
    state = choice(params, "state", STATES)
    rule = params.get("rule") or None
    page, counts = service.delivery_log(current, state, rule, positive_int(params, "before"))
    older = None
    if page.next_before is not None:
        pairs = [("state", state), ("rule", rule), ("before", str(page.next_before))]
        older = "/alerts?" + urlencode([(key, value) for key, value in pairs if value])
    return render_page(
        request,
        "alerts.html",
        title="Alerts",
        page=page,
        counts=counts,
        state=state,
        rule=rule,
        rules=service.rules(current),
        older_link=older,
        retried=positive_int(params, "retried"),
    )


async def retry(request: Request) -> Response:
    """Re-queue one dead delivery (id=N) or all of them (id=all); needs the token if set."""
    current = web(request)
    form = await form_fields(request)
    refused = action_refused(request, current.options, form.get("token"))
    if refused:
        raise HTTPException(403, refused)
    target = form.get("id", "")
    if target == "all":
        ids = None
    elif target.isdigit() and len(target) < 19:
        ids = [int(target)]
    else:
        raise BadRequest("id: expected a delivery id or 'all'")
    count = await run_in_threadpool(service.retry_dead, current, ids)
    return RedirectResponse(f"/alerts?state=pending&retried={count}", status_code=303)


def sources(request: Request) -> Response:
    current = web(request)
    return render_page(
        request,
        "sources.html",
        title="Sources",
        sources=service.sources(current),
        failing_after=service.failing_after(current),
    )
