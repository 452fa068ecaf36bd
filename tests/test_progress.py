"""The live progress line of a crawl on a terminal."""

from __future__ import annotations

from types import SimpleNamespace

from crawler.recorder import SourceTally
from newswatch.progress import CrawlProgress


def test_progress_line_sums_the_running_tallies():
    recorder = SimpleNamespace(
        tallies={
            "a": SourceTally("a", 1, 1, index_fetches=1, links=10, fetched=4, new=3, failed=1),
            "b": SourceTally("b", 2, 2),
        }
    )
    progress = CrawlProgress()
    progress._recorder = recorder
    line = progress._line().plain
    assert "1/2 sources read" in line
    assert "10 links" in line and "4 fetched" in line and "3 new" in line and "1 failed" in line
    assert not CrawlProgress().enabled  # output captured by pytest: no live display
