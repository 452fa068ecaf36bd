"""Logging: our lines at INFO, Scrapy's chatter filtered, JSON on request."""

from __future__ import annotations

import json
import logging

from newswatch.logs import JsonFormatter, QuietFilter


def records(*pairs: tuple[str, int]) -> list[logging.LogRecord]:
    return [logging.LogRecord(name, level, __file__, 1, "msg %s", ("x",), None)
            for name, level in pairs]  # fmt: skip


def test_quiet_filter_drops_chatter_below_each_family_threshold():
    quiet = QuietFilter({"scrapy": logging.WARNING, "scrapy.core.scraper": logging.ERROR})
    kept = [
        r.name + ":" + r.levelname
        for r in records(
            ("scrapy.core.engine", logging.INFO),
            ("scrapy.core.engine", logging.WARNING),
            ("scrapy.core.scraper", logging.WARNING),
            ("scrapy.core.scraper", logging.ERROR),
            ("scrapyish", logging.INFO),
            ("newswatch.crawl", logging.INFO),
        )
        if quiet.filter(r)
    ]
    assert kept == [
        "scrapy.core.engine:WARNING", "scrapy.core.scraper:ERROR", "scrapyish:INFO",
        "newswatch.crawl:INFO",
    ]  # fmt: skip


def test_json_lines():
    (record,) = records(("newswatch.crawl", logging.INFO))
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "info" and entry["logger"] == "newswatch.crawl"
    assert entry["message"] == "msg x"
