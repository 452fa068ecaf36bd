"""Remember the Content-Encoding a response arrived with, before Scrapy undoes it.

HttpCompressionMiddleware decodes gzip, deflate, br and zstd bodies and drops the header,
so the page kept as evidence (crawler.capture) would no longer say how it was sent. This
runs just before it on the way back and notes the header in the request's meta.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.http import Response

WIRE_CODING = "newswatch_wire_content_encoding"  # request meta: the header's values, as sent
PRIORITY = 595  # after HttpCompressionMiddleware (590): its process_response runs later


class WireCodingMiddleware:
    def process_response(self, request: Request, response: Response) -> Request | Response:
        coding = response.headers.getlist("Content-Encoding")
        if coding:
            request.meta[WIRE_CODING] = [value.decode("latin-1") for value in coding]
        else:
            request.meta.pop(WIRE_CODING, None)  # a redirect's target may be sent plain
        return response
