"""The crawl pool: due sources shared out between slots, never queued twice, closed cleanly."""

from __future__ import annotations

import threading

from newswatch.scheduling.pool import CrawlPool

WAIT = 10  # seconds: only reached when the behaviour under test is broken


class Batches:
    """A run_batch that records batches and holds each until the test releases it."""

    def __init__(self, parties: int = 1) -> None:
        self.seen: list[tuple[str, ...]] = []
        self.lock = threading.Lock()
        self.started = threading.Condition(self.lock)
        self.release = threading.Event()
        self.together = threading.Barrier(parties, timeout=WAIT)

    def __call__(self, batch: tuple[str, ...]) -> None:
        with self.started:
            self.seen.append(batch)
            self.started.notify_all()
        self.together.wait()  # every slot inside a batch at once: they run in parallel
        if not self.release.wait(WAIT):
            raise AssertionError("the test never released the batch")

    def wait_for(self, count: int) -> bool:
        with self.started:
            return self.started.wait_for(lambda: len(self.seen) >= count, WAIT)


def test_sources_due_together_are_shared_between_the_slots():
    batches = Batches(parties=2)
    pool = CrawlPool(batches, workers=2, settle=0)
    for name in ("a", "b", "c", "d", "e"):
        assert pool.submit(name)
    pool.start()
    assert batches.wait_for(2)
    assert sorted(len(batch) for batch in batches.seen) == [2, 3]
    assert sorted(name for batch in batches.seen for name in batch) == ["a", "b", "c", "d", "e"]
    batches.release.set()
    pool.close()
    pool.join(WAIT)


def test_a_source_waiting_or_being_crawled_is_not_queued_twice():
    batches = Batches()
    pool = CrawlPool(batches, workers=1, settle=0)
    assert pool.submit("a") and not pool.submit("a")
    pool.start()
    assert batches.wait_for(1)
    assert not pool.submit("a")  # being crawled
    assert pool.busy() == {"a"}
    batches.release.set()
    pool.close()
    pool.join(WAIT)
    assert batches.seen == [("a",)]


def test_a_failing_batch_does_not_end_its_slot():
    failed, done = threading.Event(), threading.Event()

    def run_batch(batch):
        if batch == ("bad",):
            failed.set()
            raise RuntimeError("a bug in one batch")
        done.set()

    pool = CrawlPool(run_batch, workers=1, settle=0)
    pool.start()
    pool.submit("bad")
    assert failed.wait(WAIT)
    pool.submit("good")
    assert done.wait(WAIT), "the slot died with the failing batch"
    pool.close()
    pool.join(WAIT)


def test_closing_drops_what_waits_and_refuses_more():
    batches = Batches()
    pool = CrawlPool(batches, workers=1, settle=0)
    pool.start()
    pool.submit("a")
    assert batches.wait_for(1)
    pool.submit("b")  # waits behind a
    pool.close()
    assert not pool.submit("c")
    batches.release.set()
    pool.join(WAIT)
    assert batches.seen == [("a",)]


def test_sources_of_one_site_travel_together_and_never_in_two_batches():
    batches = Batches()
    pool = CrawlPool(batches, workers=2, site=lambda name: name[0], settle=0)
    pool.submit("a1")
    pool.start()
    assert batches.wait_for(1)
    pool.submit("a2")  # same site as the batch in flight: waits for it
    pool.submit("b1")
    pool.submit("b2")
    assert batches.wait_for(2)
    assert batches.seen[1] == ("b1", "b2")  # the free slot takes the other site, whole
    assert pool.busy() == {"a1", "a2", "b1", "b2"}
    batches.release.set()
    assert batches.wait_for(3)
    assert batches.seen[2] == ("a2",)
    pool.close()
    pool.join(WAIT)
