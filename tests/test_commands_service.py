"""`newswatch run --web`: the review UI served by the long-running service itself."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import urllib.request

from newswatch.demo.site import NewsSite
from tests.crawl_helpers import write_config


def test_run_with_web_serves_the_ui_and_stops_on_sigterm(tmp_path):
    with NewsSite() as site:
        config = write_config(tmp_path / "newswatch.toml", site.sources()[:1])
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "newswatch",
                "--config",
                str(config),
                "--database",
                f"sqlite:///{tmp_path / 'n.db'}",
                "run",
                "--web",
                "127.0.0.1:0",
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            address = None
            for line in process.stderr:  # the log line is the event to wait for
                found = re.search(r"web UI at (http://[\d.:]+)/", line)
                if found:
                    address = found[1]
                    break
            assert address, "the service never said where the web UI is"
            with urllib.request.urlopen(address + "/", timeout=30) as response:
                page = response.read().decode()
                assert response.status == 200
                assert "script-src" not in page  # sanity: a page, not an error dump
                assert "default-src" in response.headers["Content-Security-Policy"]
        finally:
            process.send_signal(signal.SIGTERM)
            _, rest = process.communicate(timeout=60)
    assert process.returncode == 0, rest
