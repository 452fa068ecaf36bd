"""A live progress line on a terminal while a crawl runs (nothing when output is piped)."""

from __future__ import annotations

import sys
import threading

from rich.console import Console
from rich.live import Live
from rich.text import Text

from crawler.recorder import RunRecorder


class CrawlProgress:
    """Redraws the crawl's running totals a few times a second from its own thread."""

    def __init__(self) -> None:
        self.console = Console(file=sys.stderr)
        self._recorder: RunRecorder | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return self.console.is_terminal

    def start(self, recorder: RunRecorder) -> None:
        if not self.enabled:
            return
        self._recorder = recorder
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _line(self) -> Text:
        tallies = list(self._recorder.tallies.values()) if self._recorder else []
        done = sum(1 for t in tallies if t.index_fetches)
        total = lambda name: sum(getattr(t, name) for t in tallies)  # noqa: E731
        return Text.assemble(
            ("crawling ", "bold"),
            f"{done}/{len(tallies)} sources read · {total('links')} links · ",
            f"{total('fetched')} fetched · ",
            (f"{total('new')} new", "green"),
            f" · {total('duplicates')} duplicate · ",
            (f"{total('failed') + total('index_failures')} failed", "red"),
        )

    def _run(self) -> None:
        with Live(self._line(), console=self.console, transient=True) as live:
            while not self._stop.wait(0.25):
                live.update(self._line())
