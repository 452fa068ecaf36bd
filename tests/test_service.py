"""End to end: `newswatch run` as a process against the sample site and a webhook receiver.

A published article reaches the webhook once; a SIGKILL mid-crawl and a restart lose and
repeat nothing; SIGTERM stops with status 0 and what was in flight arrives after a restart.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from newswatch.cli import cli
from newswatch.demo.site import NewsSite
from tests.crawl_helpers import rows, write_config

WAIT = 90  # seconds; reached only when something is broken
SECRET = "a shared secret of at least 24 bytes"
WORD = "Quokkagate"


class Receiver:
    """A webhook endpoint that lets a test wait for a delivery instead of sleeping."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], dict]] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()
                with receiver.arrived:
                    receiver.deliveries.append((headers, json.loads(body)))
                    receiver.arrived.notify_all()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def count(self, url: str) -> int:
        with self.arrived:
            return sum(
                1
                for _, payload in self.deliveries
                for match in payload.get("matches", [])
                if match["article"]["url"] == url
            )

    def wait_for(self, url: str) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: self.count(url) > 0, WAIT)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Service:
    """`newswatch run` in its own process, its log in a file."""

    def __init__(self, config: Path, database_url: str, log: Path) -> None:
        self.log = log
        env = {**os.environ, "HOOK_SECRET": SECRET}
        with log.open("a") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "newswatch",
                    "--config",
                    str(config),
                    "--database",
                    database_url,
                    "run",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )

    def signal(self, number: int) -> int:
        self.process.send_signal(number)
        return self.process.wait(timeout=WAIT)

    def tail(self) -> str:
        return self.log.read_text()[-4000:]


@pytest.fixture
def setup(tmp_path):
    receiver = Receiver()
    started: list[Service] = []
    with NewsSite() as site:
        sources = [s for s in site.sources() if s["name"] in ("brussels-times", "le-soir")]
        config = write_config(
            tmp_path / "newswatch.toml", sources, interval="2s", extraction_workers=0
        )
        with config.open("a") as toml:
            toml.write(f"""
[service]
workers = 2
max_interval = "2s"
alerts_interval = "2s"
admin_channel = "hook"

[alerts]
backfill_hours = 1000000

[channels.hook]
kind = "webhook"
url = "{receiver.url}"
secret_env = "HOOK_SECRET"

[[rules]]
name = "quokka"
query = "{WORD}"
channels = ["hook"]
""")
        url = f"sqlite:///{tmp_path / 'newswatch.db'}"

        def start() -> Service:
            started.append(Service(config, url, tmp_path / "service.log"))
            return started[-1]

        yield site, receiver, start, config, url
        for service in started:
            if service.process.poll() is None:
                service.process.kill()
                service.process.wait()
    receiver.close()


# Distinct texts: copies of one story would rightly alert only once.
STORIES = {
    "ministers meet": (
        "Interior ministers of both countries met in Rabat on Monday and agreed on a "
        "calendar for the exchange of liaison officers.\n\nThe delegation visited the port "
        "of Tanger Med, where customs showed the new container scanners."
    ),
    "hearing postponed": (
        "The Antwerp criminal court postponed the hearing of eleven suspects to January, "
        "after defence lawyers asked for more time to read the file.\n\nThe prosecution "
        "opposed the delay but the presiding judge granted it."
    ),
    "extradition granted": (
        "The court of cassation in Rabat granted the extradition of a man sought by Belgian "
        "investigators for cocaine imports through the port of Antwerp.\n\nHis lawyer said "
        "he would appeal to the United Nations committee against torture."
    ),
    "new liaison officer": (
        "A second Belgian police liaison officer takes up her post at the embassy in Rabat "
        "next month, the federal police announced.\n\nShe previously led the drugs unit "
        "of the judicial police in Brussels for six years."
    ),
}


def publish(site: NewsSite, outlet: str, title: str) -> str:
    body = f"{STORIES[title]}\n\nThe {WORD} file is followed closely by both parliaments."
    return site.publish(outlet, title=f"{WORD}: {title}", body=body)


def test_alerts_arrive_once_across_kill_restart_and_clean_stop(setup):
    site, receiver, start, config, url = setup
    service = start()
    first = publish(site, "brussels-times", "ministers meet")
    assert receiver.wait_for(first), service.tail()

    # SIGKILL while the service is crawling the next article
    second = publish(site, "le-soir", "hearing postponed")
    assert site.wait_for_hits(urlsplit(second).path, 1, WAIT), service.tail()
    assert service.signal(signal.SIGKILL) == -signal.SIGKILL
    service = start()
    assert receiver.wait_for(second), service.tail()
    third = publish(site, "brussels-times", "extradition granted")
    assert receiver.wait_for(third), service.tail()

    # SIGTERM while a crawl is in flight: exit 0, nothing left half-done
    fourth = publish(site, "le-soir", "new liaison officer")
    assert site.wait_for_hits(urlsplit(fourth).path, 1, WAIT), service.tail()
    assert service.signal(signal.SIGTERM) == 0, service.tail()
    assert rows(url, "SELECT count(*) FROM crawl_runs WHERE finished_at IS NULL") == [(0,)]
    service = start()
    assert receiver.wait_for(fourth), service.tail()
    assert service.signal(signal.SIGTERM) == 0, service.tail()

    for article in (first, second, third, fourth):
        assert receiver.count(article) == 1, f"{article} delivered {receiver.count(article)}x"
    alerts = [h["webhook-id"] for h, payload in receiver.deliveries if "matches" in payload]
    assert len(alerts) == len(set(alerts)) == 4
    assert "Traceback" not in service.tail()

    status = CliRunner(env={"HOOK_SECRET": SECRET}).invoke(
        cli, ["--config", str(config), "--database", url, "status"]
    )
    assert status.exit_code == 0, status.output
    for name in ("brussels-times", "le-soir"):
        line = next(line for line in status.output.splitlines() if line.startswith(name))
        assert " ok " in line and "2s" in line, line
