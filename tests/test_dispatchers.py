"""`newswatch dispatcher` processes sharing one PostgreSQL database and a real webhook receiver.

Dispatchers run as their own processes, as in production (only the digest test calls
dispatch_due in-process, to set the clock), and the receiver is a real HTTP server on
loopback. Synchronisation is by events: a log line read from a dispatcher, a request
reaching the receiver; never by sleeping.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from alerts.claims import Owner
from alerts.dispatch import dispatch_due
from alerts.engine import match_new_articles
from crawler.storage.engine import open_engine
from tests.alerts_fixtures import T0, add_article, settings
from tests.crawl_helpers import execute, newswatch, rows
from tests.databases import POSTGRES_ADMIN_URL
from tests.test_alerts_webhook import SECRET, verify
from tests.webhook_receiver import Receiver

TIMEOUT = 20  # seconds: the longest any event may take to come, on a slow machine


class Dispatcher:
    """`newswatch dispatcher` in its own process; its log lines are read as they come."""

    def __init__(self, config: Path, database_url: str, *args: str) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "newswatch",
                "--config",
                str(config),
                "--database",
                database_url,
                "dispatcher",
                "--interval",
                "0.2s",
                *args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "HOOK_SECRET": SECRET},
        )
        self.lines: list[str] = []
        self.changed = threading.Condition()
        self.ended = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()
        with self.changed:
            self.ended = True
            self.changed.notify_all()

    def wait_for_line(self, pattern: str) -> str:
        """The first log line matching `pattern`, once the dispatcher has written it."""

        def found() -> str | None:
            return next((line for line in self.lines if re.search(pattern, line)), None)

        with self.changed:
            self.changed.wait_for(lambda: found() or self.ended, TIMEOUT)
            line = found()
        assert line, f"no line matching {pattern!r} in:\n{self.log}"
        return line

    @property
    def log(self) -> str:
        with self.changed:
            return "".join(self.lines)

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.wait()

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: no chance to clean up
        self.wait()

    def wait(self) -> int:
        status = self.process.wait(timeout=TIMEOUT)
        self.reader.join(timeout=TIMEOUT)
        return status


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    """A migrated PostgreSQL database: the dispatchers then start without migrating at once."""
    engine = open_engine(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture
def started() -> Iterator[list]:
    """Receivers and dispatchers made by a test, stopped even when it fails."""
    things: list = []
    yield things
    for thing in reversed(things):
        if isinstance(thing, Receiver):
            thing.close()
        else:
            thing.kill()


RULE = """
[channels.hook]
kind = "webhook"
url = {url}
secret_env = "HOOK_SECRET"
timeout = 30  # longer than any request the receiver holds

[[rules]]
name = "mm"
query = '"Mocro-Maffia"'
channels = ["hook"]
"""


def write_config(path: Path, url: str, **alerts: str) -> Path:
    """One webhook rule matching "Mocro-Maffia"; [alerts] extras such as claim_lease."""
    settings = {"backfill_hours": 1_000_000, **alerts}  # the articles' dates do not matter
    lines = ["[alerts]", *(f"{key} = {json.dumps(value)}" for key, value in settings.items())]
    path.write_text("\n".join(lines) + RULE.format(url=json.dumps(url)), encoding="utf-8")
    return path


def add_articles(engine: Engine, count: int) -> None:
    """`count` matching articles, each its own story, so each is one delivery."""
    for number in range(count):
        add_article(engine, f"Mocro-Maffia {number}", f"Bericht {number} over de Mocro-Maffia.")


def deliveries(url: str) -> list[tuple]:
    return rows(url, "SELECT message_id, state, attempts FROM alert_deliveries ORDER BY id")


def test_two_dispatchers_share_the_deliveries_and_send_each_once(
    engine, postgres_url, tmp_path, started
):
    # Each dispatcher's first request waits until the other one has sent one too: proof,
    # without timing, that both took part. They post to the same receiver under their own
    # path; the channel, and so the deliveries, are the same.
    both_sent, paths = threading.Event(), set()

    def rendezvous(path: str, _headers, _body) -> bool:
        paths.add(path)
        if len(paths) == 2:
            both_sent.set()
        return both_sent.wait(TIMEOUT)

    receiver = Receiver(rendezvous)
    started.append(receiver)
    add_articles(engine, 40)
    password_url = make_url(postgres_url).set(password="hunter2").render_as_string(False)
    dispatchers = [
        Dispatcher(
            write_config(tmp_path / f"{name}.toml", f"{receiver.base}/{name}"), url, "--batch", "5"
        )
        for name, url in (("a", postgres_url), ("b", password_url))  # trust auth ignores it
    ]
    started.extend(dispatchers)
    receiver.wait_for_acks(40)
    assert [dispatcher.stop() for dispatcher in dispatchers] == [0, 0]

    assert len(receiver.requests) == 40  # nothing was sent twice, not even unacknowledged
    ids = receiver.acked_ids()
    assert len(ids) == 40 and set(ids.values()) == {1}
    assert len({body for _, _, body in receiver.acked}) == 40
    assert all(verify(SECRET, headers, body) for _, headers, body in receiver.acked)
    assert {path for path, _, _ in receiver.acked} == {"/a", "/b"}
    assert sorted(deliveries(postgres_url)) == sorted((i, "sent", 1) for i in ids)
    for dispatcher in dispatchers:
        log = dispatcher.log
        assert re.search(
            r"dispatcher: started on postgresql\S*://postgres(:\*+)?@127\.0\.0\.1"
            r":5432/newswatch_test_\w+, a round every 0\.2s",
            log,
        ), log
        assert re.search(r"dispatcher: matched \d+, sent [1-9]\d*, retried 0, dead 0", log), log
        assert "hunter2" not in log and "Traceback" not in log
        assert "stopping after this round" in log and "dispatcher: stopped after" in log


def test_a_killed_dispatchers_claims_go_out_again_with_the_same_id(
    engine, postgres_url, tmp_path, started
):
    # The first request reaches the receiver and is never answered: its dispatcher is
    # killed while it waits, holding the claims of all three deliveries. Its claims are
    # then made to name another machine, whose processes no dispatcher here can see:
    # they go out again only once the lease has run out.
    has_first, release = threading.Event(), threading.Event()
    interrupted: list[tuple[str, dict[str, str], bytes]] = []

    def hold_the_first(path: str, headers: dict[str, str], body: bytes) -> bool:
        if interrupted:
            return True
        interrupted.append((path, headers, body))
        has_first.set()
        release.wait(TIMEOUT)
        return False

    receiver = Receiver(hold_the_first)
    started.append(receiver)
    add_articles(engine, 3)
    # The lease is the claimer's: the killed dispatcher's claims run out after 2 s.
    config = write_config(tmp_path / "newswatch.toml", f"{receiver.base}/hook", claim_lease="2s")
    first = Dispatcher(config, postgres_url)
    started.append(first)
    assert has_first.wait(TIMEOUT), first.log
    held = rows(
        postgres_url,
        "SELECT count(*) FROM alert_deliveries "
        "WHERE state = 'pending' AND claimed_until IS NOT NULL",
    )
    assert held == [(3,)]  # claimed, and no attempt recorded (that would clear the claim)
    first.kill()
    release.set()
    [(owner,)] = rows(postgres_url, "SELECT DISTINCT claimed_by FROM alert_deliveries")
    elsewhere = replace(Owner.parse(owner), host="another-host")
    execute(postgres_url, f"UPDATE alert_deliveries SET claimed_by = '{elsewhere}'")

    second = Dispatcher(config, postgres_url)
    started.append(second)
    receiver.wait_for_acks(3)
    assert second.stop() == 0
    assert "took back" not in second.log  # not its to judge: the lease ran out

    ids = receiver.acked_ids()
    assert len(ids) == 3 and set(ids.values()) == {1}  # each acknowledged exactly once
    [(_, lost_headers, lost_body)] = interrupted
    assert ids[lost_headers["webhook-id"]] == 1  # sent again, with the id it had
    again = [
        body
        for _, headers, body in receiver.acked
        if headers["webhook-id"] == lost_headers["webhook-id"]
    ]
    assert again == [lost_body]  # and the same payload
    assert len(receiver.requests) == 4
    # the killed dispatcher recorded nothing: one attempt each, all by the second
    assert sorted(deliveries(postgres_url)) == sorted((i, "sent", 1) for i in ids)
    assert "claim lease 2s" in second.log and "Traceback" not in second.log


def test_a_killed_holders_claims_go_out_at_once_a_live_ones_stay(
    database_url, tmp_path, started, request
):
    # Two dispatchers on this host each claim one delivery and hang in its send, the
    # receiver holding both requests. One is SIGKILLed; a new process then runs a single
    # round, far within the ten-minute lease: it must send the dead one's delivery, and
    # leave alone the live one's, whose send is still in flight.
    arrived = {"/live": threading.Event(), "/killed": threading.Event()}
    release = threading.Event()
    request.addfinalizer(release.set)  # held requests end with the test, even a failed one

    def hold_the_first_of_each(path: str, _headers, _body) -> bool:
        if path in arrived and not arrived[path].is_set():
            arrived[path].set()
            # held while two processes start and one runs a round: on a loaded machine
            # that is longer than any single event takes
            release.wait(3 * TIMEOUT)
            return path == "/live"  # the killed one's request is never answered
        return True

    receiver = Receiver(hold_the_first_of_each)
    started.append(receiver)
    engine = open_engine(database_url)
    try:
        add_articles(engine, 2)
    finally:
        engine.dispose()
    holders = {}
    for name in ("live", "killed"):  # one after the other: each claims one delivery
        config = write_config(
            tmp_path / f"{name}.toml", f"{receiver.base}/{name}", claim_lease="10m"
        )
        holders[name] = Dispatcher(config, database_url, "--batch", "1")
        started.append(holders[name])
        assert arrived[f"/{name}"].wait(TIMEOUT), holders[name].log
    claims = rows(database_url, "SELECT id, claimed_by FROM alert_deliveries ORDER BY id")
    owners = {name: Owner.parse(owner) for name, (_, owner) in zip(holders, claims, strict=True)}
    assert {name: owner.pid for name, owner in owners.items()} == {
        name: dispatcher.process.pid for name, dispatcher in holders.items()
    }
    holders["killed"].kill()

    config = write_config(tmp_path / "next.toml", f"{receiver.base}/next", claim_lease="10m")
    result = newswatch(config, database_url, "dispatcher", "--once", env={"HOOK_SECRET": SECRET})
    assert result.returncode == 0, result.stderr
    [(_, lost, lost_body)] = [r for r in receiver.requests if r[0] == "/killed"]
    assert [(path, headers["webhook-id"], body) for path, headers, body in receiver.acked] == [
        ("/next", lost["webhook-id"], lost_body)  # the same message, at once; nothing else
    ]
    assert f"took back 1 claim(s) of {owners['killed']}, which no longer runs" in result.stderr
    still = rows(database_url, "SELECT claimed_by FROM alert_deliveries ORDER BY id")
    assert still == [(str(owners["live"]),), (None,)]  # the live claim stands, untouched

    release.set()  # the live dispatcher's send completes, and it records it
    receiver.wait_for_acks(2)
    assert holders["live"].stop() == 0
    [(_, live, _)] = [r for r in receiver.requests if r[0] == "/live"]
    assert [(path, headers["webhook-id"]) for path, headers, _ in receiver.acked] == [
        ("/next", lost["webhook-id"]),
        ("/live", live["webhook-id"]),
    ]
    assert [state for _, state, _ in deliveries(database_url)] == ["sent", "sent"]
    assert "Traceback" not in holders["live"].log + result.stderr


def test_a_malformed_webhook_secret_is_a_config_error(tmp_path):
    config = write_config(tmp_path / "newswatch.toml", "http://127.0.0.1:9/hook")
    result = newswatch(
        config,
        f"sqlite:///{tmp_path / 'n.db'}",
        "dispatcher",
        "--once",
        env={"HOOK_SECRET": "whsec_abc"},
    )
    assert result.returncode == 2, result.stderr
    assert (
        f"config error: {config}: channels.hook.secret_env: environment variable HOOK_SECRET "
        "does not hold a usable signing secret: the part after whsec_ is not valid base64 "
        "(Incorrect padding)"
    ) in result.stderr
    assert "Traceback" not in result.stderr and "whsec_abc" not in result.stderr
    assert not (tmp_path / "n.db").exists()  # stopped before touching the database


def test_a_failed_round_is_one_line_and_the_loop_goes_on(engine, postgres_url, tmp_path, started):
    receiver = Receiver()
    started.append(receiver)
    dispatcher = Dispatcher(
        write_config(tmp_path / "n.toml", f"{receiver.base}/hook"), postgres_url
    )
    started.append(dispatcher)
    dispatcher.wait_for_line("dispatcher: started on")
    name = make_url(postgres_url).database
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:  # the database goes away under the dispatcher
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"
                ),
                {"name": name},
            )
        # (a round caught mid-query may first say "terminating connection")
        dispatcher.wait_for_line(
            "ERROR +dispatcher: round failed: OperationalError: .*"
            "is not currently accepting connections"
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
    add_articles(engine, 1)  # and comes back: the loop picks the new article up
    receiver.wait_for_acks(1)
    assert dispatcher.stop() == 0
    assert "Traceback" not in dispatcher.log


def test_a_digest_sent_in_parts_has_one_id_per_part_kept_on_retry(engine, started):
    # In-process with a fixed clock (a daily digest is due tomorrow morning), but the real
    # webhook channel and receiver. Claims stop at `limit`, as a dispatcher's --batch, so
    # the four deliveries of one digest go out as two messages: a receiver that drops
    # repeated ids must see two ids, or it would drop the second part.
    first = []

    def drop_the_first(_path, headers: dict[str, str], _body) -> bool:
        first.append(headers["webhook-id"])
        return len(first) > 1

    receiver = Receiver(drop_the_first)
    started.append(receiver)
    add_articles(engine, 4)
    document = RULE.format(url=json.dumps(f"{receiver.base}/hook")) + 'delivery = "daily"\n'
    daily = settings(tomllib.loads(document), {"HOOK_SECRET": SECRET})
    match_new_articles(engine, daily, now=T0)
    morning = T0.replace(hour=8) + timedelta(days=1)
    reports = [
        dispatch_due(engine, daily, now=when, limit=2)
        for when in (morning, morning, morning + timedelta(hours=1))
    ]
    assert [(r.sent, r.retried) for r in reports] == [(0, 1), (1, 0), (1, 0)]
    part_one, part_two, part_one_again = first
    assert part_one != part_two and part_one_again == part_one
    assert receiver.acked_ids() == {part_one: 1, part_two: 1}


@pytest.mark.parametrize("lease", ["soon", 0])
def test_a_bad_claim_lease_is_a_config_error(tmp_path, lease):
    config = tmp_path / "newswatch.toml"
    config.write_text(f"[alerts]\nclaim_lease = {json.dumps(lease)}\n", encoding="utf-8")
    result = newswatch(config, f"sqlite:///{tmp_path / 'n.db'}", "dispatcher", "--once")
    assert result.returncode == 2, result.stderr
    assert f"config error: {config}: alerts.claim_lease: must be " in result.stderr
    assert "a duration" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "n.db").exists()  # stopped before touching the database
