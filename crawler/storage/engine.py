"""Engines and sessions for SQLite (the default) and PostgreSQL, and schema migration."""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

try:
    import fcntl
except ImportError:  # not POSIX: SQLite migrations go unserialised, as before
    fcntl = None

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")
BACKENDS = ("sqlite", "postgresql")
POSTGRES_EXTRA = "pip install 'newswatch[postgres]'"
# A migration script's `revision = "0009"` and `down_revision = "0008"` (or None) lines.
_REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.*?)\s*$", re.M)
_REVISION_LINE_NAMES = ("revision", "down_revision")
_PLAIN_VALUE = re.compile(r"""^(?:None|"([\w-]+)"|'([\w-]+)')$""")


class UnusableDatabase(Exception):
    """A database URL this process cannot open; the message says why, in one line."""

    def __init__(self, url: str, reason: str):
        self.url = url
        super().__init__(reason)


class MissingDatabase(UnusableDatabase):
    """An SQLite file that was to be read, not created, does not exist."""

    def __init__(self, url: str, path: Path):
        self.path = path
        super().__init__(url, f"no database at {path}")


def url_problem(url: str) -> str | None:
    """Why `url` cannot be opened here (not a URL, another database, no driver), or None."""
    try:
        parsed = _with_driver(make_url(url))
    except ArgumentError:
        return f"not a database URL: {url!r}"
    backend = parsed.get_backend_name()
    if backend not in BACKENDS:
        return f"unsupported database {backend!r}: use sqlite:/// or postgresql://"
    try:
        parsed.get_dialect().import_dbapi()
    except ArgumentError:  # "postgresql+nosuchdriver"
        return f"unknown driver {parsed.drivername!r}: use sqlite:/// or postgresql://"
    except ImportError as error:
        driver = parsed.get_driver_name()
        install = POSTGRES_EXTRA if backend == "postgresql" else f"install {driver}"
        return f"the {driver} driver for {backend} is not installed ({error}): {install}"
    return None


def _home_expanded(parsed: URL) -> URL:
    """sqlite:///~/news.db in the home folder, not in a folder named "~" (pysqlite would)."""
    database = parsed.database or ""
    if database.startswith("~") and parsed.query.get("uri") != "true":
        return parsed.set(database=os.path.expanduser(database))
    return parsed


def _with_driver(parsed: URL) -> URL:
    if parsed.drivername == "postgresql":
        # psycopg 3 is the driver we declare; SQLAlchemy would default to psycopg2.
        return parsed.set(drivername="postgresql+psycopg")
    return parsed


def open_engine(url: str, *, migrate_schema: bool = True, create: bool = True) -> Engine:
    """An engine for `url`, with SQLite tuned for one writer and many readers.

    The schema is brought to the newest migration unless told otherwise. Without
    `create`, a missing SQLite file raises MissingDatabase instead of being made (with
    its folders), so a command that only reads never leaves an empty database behind.
    Raises UnusableDatabase for a URL that cannot be opened here (see url_problem).
    """
    problem = url_problem(url)
    if problem:
        raise UnusableDatabase(url, problem)
    parsed = _with_driver(make_url(url))
    if parsed.get_backend_name() == "sqlite":
        parsed = _home_expanded(parsed)
        path = _database_file(parsed)
        if path is not None and not create and not path.exists():
            raise MissingDatabase(url, path)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30})
        event.listen(engine, "connect", _tune_sqlite)
    else:
        # Pinged at every checkout: a connection the server closed behind the pool's back
        # (a restart, an idle timeout, an administrator) is replaced before a statement
        # fails on it, so no article or delivery is lost to a stale connection. A ping is a
        # read-only transaction of its own (about one per stored article in a crawl); a
        # ping only after some idle time was tried and let the first statement after a
        # restart fail. LIFO: the most recent connection is reused, the others rest.
        engine = create_engine(parsed, pool_pre_ping=True, pool_use_lifo=True)
    if migrate_schema:
        migrate(engine)
    return engine


def database_location(url: str) -> str:
    """Where `url` keeps its data, for people: an SQLite file's absolute path, or the URL
    without its password."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    path = _database_file(_home_expanded(parsed))
    if path is not None:
        return str(path)
    return parsed.render_as_string(hide_password=True)


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
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (a no-op when it is there already).

    A schema at the newest migration, as every process but the first finds it, costs one
    query: Alembic (its import, its environment, the models, a transaction holding the
    migration lock) is started only when there is something to do.
    """
    if _at_head(engine):
        return
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


def _at_head(engine: Engine) -> bool:
    """Whether the database records the newest migration as its only one."""
    path = _database_file(engine.url)
    head = script_head()
    if head is None or (path is not None and not path.exists()):
        # Alembic decides; a new SQLite file needs the schema, and a connection here would
        # create it outside the migration lock.
        return False
    with engine.connect() as connection:
        try:
            found = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        except DBAPIError:  # no table yet: an empty database
            return False
    return [version for (version,) in found] == [head]


def script_head() -> str | None:
    """The newest migration's revision, read from the scripts' `revision` and
    `down_revision` lines without importing Alembic; None unless they form one plain line
    of history (a merge or a branch is Alembic's to read)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        found = dict(_REVISION_LINE.findall(script.read_text(encoding="utf-8")))
        values = [_PLAIN_VALUE.match(found.get(name, "")) for name in _REVISION_LINE_NAMES]
        if not all(values):
            return None
        revision, parent = (value[1] or value[2] for value in values)
        if revision is None or revision in revisions:
            return None
        revisions.add(revision)
        if parent is not None:
            parents.add(parent)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None


@contextlib.contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Hold an exclusive lock beside an SQLite database file while its schema migrates.

    Processes opening a fresh file together would each create the tables, and all but one
    fail. SQLite cannot serialise this itself: pysqlite runs DDL outside any transaction,
    and a `BEGIN EXCLUSIVE` would make waiters give up after the busy timeout while a
    long migration runs. flock() waits as long as it takes and is released by the kernel
    when its holder dies, so a crashed migration leaves no stale lock. The lock is on a
    file of its own: opening and closing the database file would drop SQLite's own POSIX
    locks held by this process. Each call opens the file anew, so threads exclude each
    other too. An in-memory database is private to its process: no lock.
    """
    path = _database_file(engine.url)
    descriptor = _open_lock_file(path) if path is not None and fcntl is not None else None
    if descriptor is None:
        yield
        return
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("waiting for another process to finish migrating %s", path)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _open_lock_file(database: Path) -> int | None:
    lock_path = database.with_name(database.name + "-migrate.lock")
    try:
        return os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        pass
    try:  # made by someone else in a directory we may only read
        return os.open(lock_path, os.O_RDONLY)
    except OSError:
        # No file can be made beside the database, so SQLite cannot write its journal
        # there either: this process cannot create the schema, and needs no lock.
        log.debug("no migration lock beside %s: directory not writable", database)
        return None


def _database_file(url: URL) -> Path | None:
    """The file SQLite opens for `url`, or None for PostgreSQL and in-memory databases."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if url.query.get("uri") == "true":
        if url.query.get("mode") == "memory":
            return None
        database = database.removeprefix("file:")
    if database in ("", ":memory:"):
        return None
    # the same path pysqlite opens: relative to the working directory, "~" not expanded
    return Path(os.path.abspath(database))
