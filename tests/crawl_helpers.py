"""Helpers for tests that run real crawls: write a config, run `newswatch` as a process."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from newswatch.demo.server import Route, serve


def write_config(path: Path, sources: list[dict[str, Any]], **crawl: Any) -> Path:
    """A newswatch.toml with these sources and [crawl] settings (JSON values are valid TOML)."""
    settings = {"delay": 0, "timeout": "5s", "retries": 1, "extraction_workers": 1, **crawl}
    lines = ["[crawl]", *(f"{key} = {json.dumps(value)}" for key, value in settings.items())]
    for source in sources:
        lines += ["", "[[sources]]", *(f"{k} = {json.dumps(v)}" for k, v in source.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def newswatch(
    config: Path,
    database_url: str,
    *args: str,
    timeout: float = 120,
    env: dict[str, str] | None = None,
):
    """Run the command line in its own process (a crawl starts a reactor, once per process)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "newswatch",
            "--config",
            str(config),
            "--database",
            database_url,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **env} if env else None,
    )


@contextlib.contextmanager
def serving(route: Route, host: str = "127.0.0.1") -> Iterator[str]:
    """A loopback HTTP server answering with `route` while the block runs; its base URL."""
    server, thread = serve(host, 0, route)
    try:
        yield server.base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def through_proxy(proxy_url: str) -> dict[str, str]:
    """Environment that sends a crawl's requests through an HTTP proxy (any host name works)."""
    return {"http_proxy": proxy_url, "HTTP_PROXY": proxy_url, "no_proxy": "", "NO_PROXY": ""}


def rows(database_url: str, query: str) -> list[tuple]:
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(query))]
    finally:
        engine.dispose()


def execute(database_url: str, statement: str) -> None:
    """Run one statement and commit it (for moving stored times into the past)."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()
