"""Logging: our lines at INFO, Scrapy's chatter filtered, a failure on one line unless -v,
JSON on request."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading

import pytest

from newswatch.demo.server import Request, Response, serve, text
from newswatch.logs import JsonFormatter, QuietFilter, setup_logging
from tests.crawl_helpers import newswatch, write_config


def records(*pairs: tuple[str, int]) -> list[logging.LogRecord]:
    return [
        logging.LogRecord(name, level, __file__, 1, "msg %s", ("x",), None) for name, level in pairs
    ]


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
        "scrapy.core.engine:WARNING",
        "scrapy.core.scraper:ERROR",
        "scrapyish:INFO",
        "newswatch.crawl:INFO",
    ]


def test_json_lines():
    (record,) = records(("newswatch.crawl", logging.INFO))
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "info" and entry["logger"] == "newswatch.crawl"
    assert entry["message"] == "msg x"


# -- one line per failure at default verbosity, tracebacks with -v ---------------------------


@pytest.fixture
def restore_logging():
    """setup_logging changes the process's root logger: put it back for the next test."""
    root = logging.getLogger()
    ours = [logging.getLogger(name) for name in ("newswatch", "alerts")]
    saved = root.handlers[:], root.level, [logger.level for logger in ours]
    yield
    root.handlers[:], level, levels = saved
    root.setLevel(level)
    for logger, level in zip(ours, levels, strict=True):
        logger.setLevel(level)


def log_failures() -> None:
    """A Scrapy spider error (exc_info) and a Twisted error (its traceback in the text)."""
    try:
        raise ValueError("Cannot use css on a Selector of type 'json'")
    except ValueError:
        logging.getLogger("scrapy.core.scraper").error(
            "Spider error processing %s (referer: None)", "<GET http://x/list>", exc_info=True
        )
    logging.getLogger("twisted").error(
        "Unhandled error in Deferred:\nTraceback (most recent call last):\n"
        '  File "x.py", line 1, in f\n    g()\nbuiltins.ConnectionError: lost\n'
    )


def test_default_verbosity_gives_a_failure_one_line_with_its_cause(capsys, restore_logging):
    setup_logging(0)
    log_failures()
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2, lines
    assert "Traceback" not in "\n".join(lines)
    assert lines[0].endswith(
        "ERROR   Spider error processing <GET http://x/list> (referer: None): "
        "ValueError: Cannot use css on a Selector of type 'json' (-v shows the traceback)"
    ), lines[0]
    assert "Unhandled error in Deferred: builtins.ConnectionError: lost" in lines[1], lines[1]


@pytest.mark.parametrize("verbosity", [1, 2])
def test_verbose_shows_tracebacks(capsys, restore_logging, verbosity):
    setup_logging(verbosity)
    log_failures()
    err = capsys.readouterr().err
    assert err.count("Traceback (most recent call last)") == 2, err
    assert 'raise ValueError("Cannot use css' in err


def test_json_lines_carry_the_cause_and_the_traceback_only_when_verbose(capsys, restore_logging):
    setup_logging(0, json_format=True)
    log_failures()
    quiet = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [entry["exception"] for entry in quiet] == [
        "ValueError: Cannot use css on a Selector of type 'json'",
        "builtins.ConnectionError: lost",
    ]
    assert quiet[1]["message"] == "Unhandled error in Deferred"
    setup_logging(1, json_format=True)
    log_failures()
    verbose = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert verbose[0]["exception"].startswith("Traceback (most recent call last)")


# -- a real crawl of sites that cannot be reached ---------------------------------------------


@contextlib.contextmanager
def failing_sites():
    """Sources that fail every way a crawl meets: a closed port, a host name that does not
    resolve, a feed answering 500, a feed whose articles never answer in time, and a
    listing page that answers JSON."""
    released = threading.Event()

    def respond(request: Request) -> Response:
        if request.path == "/500.xml":
            return text(500, "<h1>Internal Server Error</h1>")
        if request.path == "/slow.xml":
            items = "".join(
                f"<item><title>{n}</title><link>{request.base_url}/slow/{n}.html</link></item>"
                for n in range(3)
            )
            body = f"<?xml version='1.0'?><rss version='2.0'><channel>{items}</channel></rss>"
            return text(200, body, "application/rss+xml")
        if request.path.startswith("/slow/"):
            released.wait(30)  # past the crawl's 1s timeout; released when the test ends
            return text(503, "too late")
        if request.path == "/latest":
            return text(200, '{"articles": []}', "application/json")
        return text(404, "not found")

    server, thread = serve("127.0.0.1", 0, respond)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    base = server.base_url
    try:
        yield [
            {"name": "closed", "kind": "feed", "url": f"http://127.0.0.1:{closed}/feed.xml"},
            {"name": "nowhere", "kind": "feed", "url": "http://nothing.invalid/feed"},
            {"name": "error-500", "kind": "feed", "url": f"{base}/500.xml"},
            {"name": "slow-pages", "kind": "feed", "url": f"{base}/slow.xml"},
            {
                "name": "json-listing",
                "kind": "listing",
                "url": f"{base}/latest",
                "link_selector": "a",
            },
        ]
    finally:
        released.set()
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_crawl_of_unreachable_sites_prints_lines_not_tracebacks(tmp_path):
    with failing_sites() as sources:
        config = write_config(tmp_path / "n.toml", sources, timeout="1s", retries=1)
        default = newswatch(config, f"sqlite:///{tmp_path / 'default.db'}", "crawl")
        # another database: the first crawl's stored robots.txt answers would hide details
        verbose = newswatch(config, f"sqlite:///{tmp_path / 'verbose.db'}", "crawl", "-vv")

    lines = default.stderr.splitlines()
    assert "Traceback" not in default.stderr, default.stderr
    long = [line for line in lines if len(line) > 400]
    assert not long, long
    for source in sources:
        assert any(f"INFO    {source['name']}: " in line for line in lines), source["name"]
    # one line per failure, naming the source, the address and the cause
    causes = {
        "closed": "refused",
        "nowhere": "nothing.invalid",
        "error-500": "HTTP 500",
        "slow-pages": "no complete response",
    }
    for name, cause in causes.items():
        assert any(
            f" {name}: " in line and "failed:" in line and cause in line
            for line in lines
            if "WARNING" in line
        ), (name, default.stderr)
    # the failures, the sources' lines, two summary lines, and little else
    assert len(lines) <= 3 * len(sources) + 2 + 5, default.stderr
    assert default.returncode == 1, default.stderr  # some sources failed

    # -vv: Scrapy's own log and the tracebacks behind the causes
    assert "Traceback (most recent call last)" in verbose.stderr
    assert "DEBUG" in verbose.stderr and "Retrying" in verbose.stderr
