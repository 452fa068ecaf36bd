"""CSV and JSON Lines export of any feed view, streamed a page at a time.

The fields and their encoding are those of `newswatch export`, so a file from the web and
one from the command line have the same columns, and times in the same zone with its offset.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import StreamingResponse

from alerts.archive import Search
from alerts.query import QueryError
from newswatch.commands.export import BATCH, FIELDS, csv_safe, export_items, export_record
from newswatch.web.context import Web, web
from newswatch.web.params import BadRequest, FeedView, rule_operator


def _records(current: Web, view: FeedView, search: Search | None) -> Iterator[dict]:
    """Every article of the view, read as `newswatch export` reads it (the same rows)."""
    with current.sessions() as session:
        for item in export_items(session, view.filter(), search):
            yield export_record(item, item.source, current.zone)


def _csv(records: Iterator[dict]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS)
    writer.writeheader()
    for count, record in enumerate(records, 1):
        writer.writerow(csv_safe(record))
        if count % BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _jsonl(records: Iterator[dict]) -> Iterator[str]:
    lines = []
    for record in records:
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
        if len(lines) == BATCH:
            yield "".join(lines)
            lines = []
    yield "".join(lines)


def _download(request: Request, body: Iterator[str], extension: str, media_type: str):
    name = f"newswatch-{datetime.now(UTC):%Y%m%d-%H%M%S}.{extension}"
    headers = {"content-disposition": f'attachment; filename="{name}"'}
    return StreamingResponse(body, media_type=media_type, headers=headers)


def _searched(request: Request) -> tuple[FeedView, Search | None]:
    """The view and its search; raises BadRequest (a 400 naming the position) on a bad query."""
    view = FeedView.from_query(request.query_params)
    try:
        return view, view.search(rule_operator(web(request).settings))
    except QueryError as error:
        raise BadRequest(f"q: {error}") from None


def csv_export(request: Request) -> StreamingResponse:
    view, search = _searched(request)
    body = _csv(_records(web(request), view, search))
    return _download(request, body, "csv", "text/csv; charset=utf-8")


def jsonl_export(request: Request) -> StreamingResponse:
    view, search = _searched(request)
    body = _jsonl(_records(web(request), view, search))
    return _download(request, body, "jsonl", "application/x-ndjson; charset=utf-8")
