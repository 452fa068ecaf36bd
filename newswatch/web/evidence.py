"""An article's page as its outlet served it: the facts shown, and the WARC file to download."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from crawler.capture import warc_bytes, warc_name
from crawler.storage import captures
from crawler.storage.captures import CaptureFacts
from newswatch.web.context import Web, web

WARC_TYPE = "application/warc"  # gzipped per record, as .warc.gz files are; no Content-Encoding


def capture_facts(current: Web, article_id: int) -> CaptureFacts | None:
    with current.sessions() as session:
        return captures.facts(session, article_id)


def warc(request: Request) -> Response:
    """The article's capture as a WARC file: the exact bytes fetched, readable by warcio."""
    article_id = request.path_params["article_id"]
    with web(request).sessions() as session:
        try:
            found = captures.evidence(session, article_id)
        except ValueError as error:  # the stored body no longer matches its SHA-256
            raise HTTPException(500, str(error)) from None
    if found is None:
        raise HTTPException(404, "no such article")
    if found.capture is None:
        raise HTTPException(404, "no page kept for this article (see [evidence] retention)")
    disposition = f'attachment; filename="{warc_name(article_id)}"'
    return Response(
        warc_bytes(found), media_type=WARC_TYPE, headers={"Content-Disposition": disposition}
    )
