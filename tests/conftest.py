"""Shared fixtures: a fresh database on every backend this machine runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from crawler.storage.engine import open_engine
from tests.databases import fresh_postgres, postgres_unreachable, skip_without_postgres


@pytest.fixture(scope="session")
def postgres_skip_reason() -> str | None:
    return postgres_unreachable()


@pytest.fixture
def postgres_url(postgres_skip_reason: str | None) -> Iterator[str]:
    """A freshly created, empty PostgreSQL database, dropped afterwards."""
    skip_without_postgres(postgres_skip_reason)
    with fresh_postgres() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'newswatch.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request) -> str:
    """The URL of a fresh, empty database: each test runs once per backend."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated engine on a fresh database, once per backend."""
    engine = open_engine(database_url)
    yield engine
    engine.dispose()
