"""CSV and JSON Lines export of any feed view, streamed a page at a time.

The fields and their encoding are those of `newswatch export`, so a file from the web and
one from the command line have the same columns.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import StreamingResponse

from crawler.storage import feed
from newswatch.commands.export import FIELDS, csv_safe, export_record
from newswatch.web.context import Web, web
from newswatch.web.params import FeedView

BATCH = 200  # rows per chunk written to the client


def _records(current: Web, view: FeedView) -> Iterator[dict]:
    with current.sessions() as session:
        for item in feed.iter_feed(session, view.filter()):
            yield export_record(item, item.source)


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


def csv_export(request: Request) -> StreamingResponse:
    view = FeedView.from_query(request.query_params)
    body = _csv(_records(web(request), view))
    return _download(request, body, "csv", "text/csv; charset=utf-8")


def jsonl_export(request: Request) -> StreamingResponse:
    view = FeedView.from_query(request.query_params)
    body = _jsonl(_records(web(request), view))
    return _download(request, body, "jsonl", "application/x-ndjson; charset=utf-8")
