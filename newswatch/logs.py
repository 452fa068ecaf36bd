"""Logging for the command line: our lines at INFO, Scrapy's own chatter only when asked."""

from __future__ import annotations

import json
import logging
import sys

# Loggers whose messages repeat what our per-source lines already say, or that are
# noisy on real-world pages; shown with -vv.
QUIET = {
    "scrapy": logging.WARNING,
    "scrapy.downloadermiddlewares.retry": logging.CRITICAL,
    "scrapy.core.downloader.handlers.http11": logging.ERROR,
    "scrapy.core.scraper": logging.ERROR,
    "scrapy.downloadermiddlewares.httpcompression": logging.ERROR,
    "scrapy.downloadermiddlewares.redirect": logging.ERROR,
    "twisted": logging.ERROR,
    "trafilatura": logging.ERROR,
    "htmldate": logging.ERROR,
    "courlan": logging.ERROR,
    "charset_normalizer": logging.ERROR,
    "alembic": logging.WARNING,
    "apscheduler": logging.WARNING,  # a line per job run; the service logs what matters
    "py.warnings": logging.ERROR,
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is now, so lines print above a live progress display."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


class QuietFilter(logging.Filter):
    """Drops records below a logger family's threshold.

    A filter on the handler, not logger levels: Scrapy resets its loggers to DEBUG
    when a crawl starts.
    """

    def __init__(self, thresholds: dict[str, int]):
        super().__init__()
        # longest names first, so "scrapy.core.scraper" wins over "scrapy"
        self.thresholds = sorted(thresholds.items(), key=lambda item: -len(item[0]))

    def filter(self, record: logging.LogRecord) -> bool:
        for name, level in self.thresholds:
            if record.name == name or record.name.startswith(name + "."):
                return record.levelno >= level
        return True


def setup_logging(verbosity: int = 0, *, json_format: bool = False) -> None:
    """verbosity: -1 quiet (warnings), 0 normal, 1 debug for newswatch, 2 everything."""
    handler = StderrHandler()
    if json_format:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO)
    level = {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    logging.getLogger("newswatch").setLevel(level)
    logging.getLogger("alerts").setLevel(level)
    if verbosity < 2:
        handler.addFilter(QuietFilter(QUIET))
