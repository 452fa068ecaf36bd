"""Fresh databases for tests: SQLite files, and PostgreSQL databases created and dropped."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

POSTGRES_ADMIN_URL = os.environ.get(
    "NEWSWATCH_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def postgres_unreachable() -> str | None:
    """None when the server answers, else why not (used as the skip reason)."""
    try:
        admin = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
        admin.dispose()
    except Exception as error:  # any failure means: no PostgreSQL for this run
        return f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {error.__class__.__name__}"
    return None


def skip_without_postgres(reason: str | None) -> None:
    """Skip, or fail where PostgreSQL is required (`make test` sets NEWSWATCH_REQUIRE_POSTGRES)."""
    if reason:
        if os.environ.get("NEWSWATCH_REQUIRE_POSTGRES"):
            pytest.fail(reason)
        pytest.skip(reason)


@contextlib.contextmanager
def fresh_postgres(prefix: str = "newswatch_test") -> Iterator[str]:
    """The URL of a freshly created, empty PostgreSQL database, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
