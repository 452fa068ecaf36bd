"""Scrapy's meta-refresh redirect, read from the start of the page only.

Scrapy's own middleware decodes the whole page to look at its first 4,096 characters, and
the decoded copy stays with the response while the page waits for extraction: tens of MiB
across a crawl's waiting pages, for a tag that stands in the head. This one decodes a
prefix that holds those characters whatever the encoding, and leaves the page undecoded
unless it does redirect.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse, Response
from scrapy.utils.response import get_meta_refresh

# Scrapy looks at the first 4,096 characters; UTF-8 takes at most 4 bytes for each.
HEAD_BYTES = 4 * 4096


class HeadMetaRefreshMiddleware(MetaRefreshMiddleware):
    def process_response(self, request: Request, response: Response) -> Request | Response:
        if isinstance(response, HtmlResponse) and len(response.body) > HEAD_BYTES:
            head = response.replace(body=response.body[:HEAD_BYTES])
            _, url = get_meta_refresh(head, ignore_tags=self._ignore_tags)
            if not url:
                return response  # the common case: nothing decoded beyond the prefix
        return super().process_response(request, response)
