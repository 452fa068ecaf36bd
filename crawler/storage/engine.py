"""Engines and sessions for SQLite (the default) and PostgreSQL, and schema migration."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")
BACKENDS = ("sqlite", "postgresql")


def open_engine(url: str, *, migrate_schema: bool = True) -> Engine:
    """An engine for `url`, with SQLite tuned for one writer and many readers.

    The schema is brought to the newest migration unless told otherwise.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() not in BACKENDS:
        raise ArgumentError(
            f"unsupported database {parsed.get_backend_name()!r}: use a sqlite:/// or "
            "postgresql:// URL"
        )
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _tune_sqlite)
    else:
        if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
            # psycopg 3 is the driver we declare; SQLAlchemy would default to psycopg2.
            url = str(parsed.set(drivername="postgresql+psycopg").render_as_string(False))
        engine = create_engine(url, pool_pre_ping=True)
    if migrate_schema:
        migrate(engine)
    return engine


def _tune_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the review commands read while a crawl writes; NORMAL survives an
    # application crash (not a power cut) at twice the commit rate of FULL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (a no-op when it is there already)."""
    command.upgrade(alembic_config(engine), "head")


def has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version")
