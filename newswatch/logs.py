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


TRACEBACK = "Traceback (most recent call last)"
CAUSE_CHARS = 300  # an exception's message can be a whole page; its start says enough


def without_traceback(record: logging.LogRecord) -> tuple[str, str | None]:
    """(message, cause): the record's message without a traceback, and the exception's
    one-line "Type: message", from `exc_info` or from a traceback written into the text
    (Twisted's log observer does that); cause None when the record carries neither."""
    message = record.getMessage()
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        lines = str(error).strip().splitlines()
        cause = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
        return _first_line(message), cause[:CAUSE_CHARS]
    head, found, tail = message.partition(TRACEBACK)
    if not found:
        return message, None
    last = [line.strip() for line in tail.splitlines() if line.strip()]
    return _first_line(head), (last[-1][:CAUSE_CHARS] if last else None)


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0].rstrip(" :") if lines else ""


class TextFormatter(logging.Formatter):
    """One line per record; a traceback only when asked for (-v), else its last line."""

    def __init__(self, *, tracebacks: bool):
        super().__init__("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S")
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        if self.tracebacks:
            return super().format(record)
        message, cause = without_traceback(record)
        record.message = f"{message}: {cause} (-v shows the traceback)" if cause else message
        record.asctime = self.formatTime(record, self.datefmt)
        return self.formatMessage(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per record; "exception" holds the traceback, or with
    tracebacks=False only its last line."""

    def __init__(self, *, tracebacks: bool = True):
        super().__init__()
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if not self.tracebacks:
            entry["message"], cause = without_traceback(record)
            if cause:
                entry["exception"] = cause
        elif record.exc_info:
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
    """verbosity: -1 quiet (warnings), 0 normal, 1 debug for newswatch, 2 everything.

    Below 1 every record is one line: a failure says its cause, not its traceback (a crawl
    of unreachable sites would otherwise bury the per-source lines in Scrapy's).
    """
    handler = StderrHandler()
    tracebacks = verbosity >= 1
    if json_format:
        handler.setFormatter(JsonFormatter(tracebacks=tracebacks))
    else:
        handler.setFormatter(TextFormatter(tracebacks=tracebacks))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO)
    level = {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    logging.getLogger("newswatch").setLevel(level)
    logging.getLogger("alerts").setLevel(level)
    if verbosity < 2:
        handler.addFilter(QuietFilter(QUIET))
