"""Claim owners: a process's name for itself, telling a dead holder from a live one, release.

Holders are real processes: a child that waits on its stdin, killed and reaped when the
test wants it dead. Nothing is faked but the names of other machines and reused pids,
which no test can make for real.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from alerts.claims import Owner, is_gone, owner_of, release_dead, this_process
from alerts.engine import match_new_articles
from crawler.storage import deliveries
from crawler.storage.engine import sessions
from crawler.storage.models.alerts import AlertDelivery
from tests.alerts_fixtures import T0, add_article, settings

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")


@pytest.fixture
def child() -> Iterator[subprocess.Popen]:
    """A live process of this host; `kill_and_reap(child)` makes it a dead one."""
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    yield process
    kill_and_reap(process)


def kill_and_reap(process: subprocess.Popen) -> None:
    process.kill()
    process.wait()


def test_an_owner_reads_back_from_its_text():
    here = this_process()
    assert here.pid == os.getpid() and here.started and here.scope
    assert Owner.parse(str(here)) == here
    assert Owner.parse("a:b:c:d") is None and Owner.parse("no owner") is None


def test_a_live_process_is_not_gone_and_a_killed_one_is(child):
    here, holder = this_process(), owner_of(child.pid)
    assert not is_gone(here, here)
    assert not is_gone(holder, here)
    kill_and_reap(child)
    assert is_gone(holder, here)


def test_a_reused_pid_is_another_process():
    # our own pid, as if an earlier process that had it made the claim
    here = this_process()
    assert is_gone(replace(here, started=str(int(here.started) - 1)), here)


def test_a_holder_elsewhere_is_never_judged(child):
    here, holder = this_process(), owner_of(child.pid)
    kill_and_reap(child)
    assert not is_gone(replace(holder, host="another-host"), here)  # its pids are not ours
    assert not is_gone(replace(holder, scope="0123456789ab"), here)  # another container
    assert not is_gone(replace(holder, started=""), here)  # made where /proc was missing
    assert not is_gone(holder, replace(here, scope=""))  # and here /proc is missing


def test_only_the_claims_of_dead_holders_of_this_host_are_released(engine, child):
    rules = settings(
        {"alerts": {"backfill_hours": 1_000_000}, "rules": [{"name": "mm", "query": "Mocro*"}]}
    )
    for number in range(4):
        add_article(engine, f"Mocro {number}", f"Mocros {number}.")
    match_new_articles(engine, rules, now=T0)
    dead, live = owner_of(child.pid), this_process()
    elsewhere = replace(dead, host="another-host")
    lease = T0 + timedelta(minutes=10)
    make_session = sessions(engine)
    with make_session() as session, session.begin():
        for owner in (dead, live, elsewhere):
            deliveries.claim_due(session, T0, lease, 1, str(owner))
    kill_and_reap(child)

    with make_session() as session, session.begin():
        assert release_dead(session, T0, live) == 1
    with make_session() as session:
        held = session.execute(
            select(AlertDelivery.claimed_by, AlertDelivery.claimed_until).order_by(AlertDelivery.id)
        ).all()
    assert [tuple(row) for row in held] == [
        (None, None),
        (str(live), lease),
        (str(elsewhere), lease),
        (None, None),
    ]
    with make_session() as session, session.begin():  # claimable again at once
        again = deliveries.claim_due(session, T0, lease, 10, str(live))
    assert len(again) == 2
