"""Helpers for tests that run real crawls: write a config, run `newswatch` as a process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text


def write_config(path: Path, sources: list[dict[str, Any]], **crawl: Any) -> Path:
    """A newswatch.toml with these sources and [crawl] settings (JSON values are valid TOML)."""
    settings = {"delay": 0, "timeout": "5s", "retries": 1, "extraction_workers": 1, **crawl}
    lines = ["[crawl]", *(f"{key} = {json.dumps(value)}" for key, value in settings.items())]
    for source in sources:
        lines += ["", "[[sources]]", *(f"{k} = {json.dumps(v)}" for k, v in source.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def newswatch(config: Path, database_url: str, *args: str, timeout: float = 120):
    """Run the command line in its own process (a crawl starts a reactor, once per process)."""
    return subprocess.run(
        [sys.executable, "-m", "newswatch", "--config", str(config), "--database", database_url,
         *args],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def rows(database_url: str, query: str) -> list[tuple]:
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(query))]
    finally:
        engine.dispose()
