"""The coverage page: per outlet, what each way of finding articles saw, and what was lost."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from crawler.storage import coverage as coverage_queries
from newswatch.web.context import web
from newswatch.web.pages import render_page
from newswatch.web.params import BadRequest, parse_date, positive_int

DETAILS = 50  # single-way and not-stored articles listed per outlet, unless ?limit= says
MAX_DETAILS = 1000
MAX_OUTLET = 300  # characters: longer input is refused, not truncated


def coverage(request: Request) -> Response:
    current = web(request)
    params = request.query_params
    since = params.get("since", "").strip()
    outlet = params.get("outlet", "").strip()
    if len(outlet) > MAX_OUTLET:
        raise BadRequest(f"outlet: longer than {MAX_OUTLET} characters")
    limit = min(positive_int(params, "limit", DETAILS), MAX_DETAILS)
    with current.sessions() as session:
        report = coverage_queries.report(
            session, since=parse_date("since", since), outlet=outlet or None, details=limit
        )
    return render_page(
        request,
        "coverage.html",
        title="Coverage",
        report=report,
        since=since,
        outlet=outlet,
        max_details=MAX_DETAILS,
        link=lambda **extra: _link(since=since, **extra),
    )


def _link(**params: str | int | None) -> str:
    """This page with these parameters (the empty ones left out)."""
    pairs = [(name, str(value)) for name, value in params.items() if value]
    return "/coverage" + ("?" + urlencode(pairs) if pairs else "")
