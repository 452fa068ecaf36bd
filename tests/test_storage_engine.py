"""Opening a database: processes that open a fresh SQLite file together all get the schema."""

from __future__ import annotations

import subprocess
import sys

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import event, text

from crawler.storage.engine import alembic_config, migrate, open_engine, script_head
from tests.crawl_helpers import rows

PROCESSES = 4
ROUNDS = 3
WAIT = 120  # seconds: only reached when something hangs

# Each opener imports everything first, says so, and opens the database only when the test
# says go: imports take a second or two, which would otherwise spread the openers apart.
OPENER = """
import sys
from crawler.storage.engine import open_engine
print("ready", flush=True)
sys.stdin.readline()
open_engine(sys.argv[1]).dispose()
"""


def open_together(url: str, count: int) -> list[subprocess.CompletedProcess]:
    """Start `count` processes that open `url` at the same moment; their results."""
    openers = [
        subprocess.Popen(
            [sys.executable, "-c", OPENER, url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    try:
        for opener in openers:
            assert opener.stdout.readline() == "ready\n", opener.communicate(timeout=WAIT)
        for opener in openers:
            opener.stdin.write("go\n")
            opener.stdin.flush()
        results = []
        for opener in openers:
            stdout, stderr = opener.communicate(timeout=WAIT)
            results.append(
                subprocess.CompletedProcess(opener.args, opener.returncode, stdout, stderr)
            )
        return results
    finally:
        for opener in openers:
            if opener.poll() is None:
                opener.kill()
                opener.wait()


def head_revision() -> str:
    engine = open_engine("sqlite://", migrate_schema=False)
    try:
        return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    finally:
        engine.dispose()


def test_processes_opening_a_fresh_sqlite_file_together_all_succeed(tmp_path):
    head = head_revision()
    for round_ in range(ROUNDS):
        url = f"sqlite:///{tmp_path / f'fresh-{round_}.db'}"
        results = open_together(url, PROCESSES)
        # the last line of a traceback says what went wrong ("table sources already exists")
        failed = [r.stderr.strip().splitlines()[-1:] for r in results if r.returncode != 0]
        assert not failed, f"round {round_}: {len(failed)} of {PROCESSES} openers failed: {failed}"
        assert rows(url, "SELECT version_num FROM alembic_version") == [(head,)]


def test_in_memory_sqlite_needs_no_lock_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    engine = open_engine("sqlite://")
    try:
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT count(*) FROM alembic_version")).scalar()
    finally:
        engine.dispose()
    assert versions == 1
    assert list(tmp_path.iterdir()) == [], "an in-memory database left files behind"


def test_the_lock_file_sits_beside_the_database(tmp_path):
    open_engine(f"sqlite:///{tmp_path / 'news.db'}").dispose()
    assert (tmp_path / "news.db-migrate.lock").exists()


def test_the_newest_migration_is_read_from_the_scripts_as_alembic_reads_it():
    assert script_head() == head_revision()


def test_a_schema_at_the_newest_migration_costs_one_query_and_no_alembic(database_url, monkeypatch):
    engine = open_engine(database_url)  # at head
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    def no_alembic(*_args, **_kwargs):
        raise AssertionError("Alembic ran on a schema at the newest migration")

    monkeypatch.setattr(command, "upgrade", no_alembic)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    assert statements == ["SELECT version_num FROM alembic_version"]


def test_a_schema_behind_the_newest_migration_is_migrated(sqlite_url):
    engine = open_engine(sqlite_url)
    try:
        command.downgrade(alembic_config(engine), "-1")
        migrate(engine)
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    finally:
        engine.dispose()
    assert versions == [(head_revision(),)]


def backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_pooled_connection_closed_behind_the_pool_is_replaced(postgres_url):
    engine = open_engine(postgres_url, migrate_schema=False)
    other = open_engine(postgres_url, migrate_schema=False)
    try:
        first = backend_pid(engine)
        with other.connect() as connection:  # a server restart, an idle timeout
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        assert backend_pid(engine) != first  # no error: a fresh connection
    finally:
        engine.dispose()
        other.dispose()
