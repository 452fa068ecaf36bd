"""The webhook channel against a real HTTP receiver on loopback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType

import pytest
from sqlalchemy import select

from alerts.channels.webhook import WebhookChannel
from alerts.dispatch import dispatch_due
from alerts.engine import match_new_articles
from alerts.errors import PermanentError, TransientError
from alerts.render import render
from crawler.storage.engine import open_engine, sessions
from crawler.storage.models.alerts import AlertDelivery
from tests import webhook_receiver
from tests.alerts_fixtures import T0, add_article, settings
from tests.test_alerts_email import message

SECRET = "whsec_" + base64.b64encode(b"a shared secret of 24 b.").decode()


class Receiver:
    """Records every request; answers with the scripted statuses, then 200."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[tuple[int, dict[str, str]]] = []
        self.hold = threading.Event()  # set: answer at once; clear: hang until the test ends
        self.hold.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                receiver.hold.wait(timeout=30)
                status, headers = receiver.answers.pop(0) if receiver.answers else (200, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.close()


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does, written from the Standard Webhooks spec, not from our code."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body.decode()}"
    expected = base64.b64encode(hmac.new(key, signed.encode(), hashlib.sha256).digest()).decode()
    offered = [
        s.split(",", 1)[1] for s in headers["webhook-signature"].split() if s.startswith("v1,")
    ]
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)


def config(url: str, timeout: float = 5):
    return settings(
        {
            "alerts": {"backfill_hours": 1_000_000},
            "channels": {
                "ops": {
                    "kind": "webhook",
                    "url": url,
                    "secret_env": "HOOK_SECRET",
                    "timeout": timeout,
                }
            },
            "rules": [{"name": "mm", "query": '"Mocro-Maffia"', "channels": ["ops"]}],
        },
        {"HOOK_SECRET": SECRET},
    )


def channel(
    url: str, timeout: float = 5, clock: Callable[[], float] = T0.timestamp
) -> WebhookChannel:
    return WebhookChannel(config(url, timeout).channels["ops"], clock)


def test_signed_json_that_the_receiver_can_verify(receiver):
    assert channel(receiver.url).send(render(message("Titel")), T0) == "HTTP 200"
    [(headers, body)] = receiver.requests
    assert headers["content-type"] == "application/json"
    assert headers["webhook-id"] == "msg_abc"
    assert headers["webhook-timestamp"] == str(int(T0.timestamp()))
    assert verify(SECRET, headers, body)
    assert not verify("whsec_" + base64.b64encode(b"another secret").decode(), headers, body)
    payload = json.loads(body)
    assert payload["version"] == 1 and payload["rule"]["name"] == "mm"


@pytest.mark.parametrize(
    ("status", "headers", "error", "retry_after"),
    [
        (500, {}, TransientError, None),
        (503, {"Retry-After": "120"}, TransientError, 120.0),
        (429, {"Retry-After": "Sun, 29 Nov 2026 09:05:00 GMT"}, TransientError, 300.0),
        (408, {}, TransientError, None),
        (404, {}, PermanentError, None),
        (410, {}, PermanentError, None),
        (302, {"Location": "http://127.0.0.1:9/elsewhere"}, PermanentError, None),
    ],
)
def test_answers_map_to_transient_or_permanent(receiver, status, headers, error, retry_after):
    receiver.answers = [(status, headers)]
    with pytest.raises(error) as raised:
        channel(receiver.url).send(render(message("x")), T0)
    assert raised.value.retry_after == retry_after


def test_a_receiver_that_does_not_answer_times_out(receiver):
    receiver.hold.clear()
    with pytest.raises(TransientError):
        channel(receiver.url, timeout=1).send(render(message("x")), T0)


def test_nobody_listening_is_transient_and_the_error_keeps_the_address_secret():
    with pytest.raises(TransientError) as raised:
        channel("http://127.0.0.1:9/services/T0/B0/s3cret").send(render(message("x")), T0)
    # for Slack or Teams the address is the credential: only its origin may be stored
    assert str(raised.value).startswith("http://127.0.0.1: ")
    assert "s3cret" not in str(raised.value) and ":9" not in str(raised.value)


def test_500_twice_then_200_delivers_once_with_the_same_id(engine, receiver):
    receiver.answers = [(500, {}), (500, {})]
    add_article(engine, "Mocro-Maffia", "De Mocro Maffia.")
    settings_ = config(receiver.url)
    match_new_articles(engine, settings_, now=T0)
    now, outcomes = T0, []
    for _ in range(6):
        report = dispatch_due(engine, settings_, now=now)
        outcomes.append((report.sent, report.retried, report.dead))
        now += timedelta(hours=1)
    assert outcomes == [(0, 1, 0), (0, 1, 0), (1, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0)]
    ids = {headers["webhook-id"] for headers, _ in receiver.requests}
    assert len(receiver.requests) == 3 and len(ids) == 1
    assert all(verify(SECRET, headers, body) for headers, body in receiver.requests)
    assert len({body for _, body in receiver.requests}) == 1  # the same payload every time


def test_404_goes_to_the_dead_letters(engine, receiver):
    receiver.answers = [(404, {})]
    add_article(engine, "Mocro-Maffia", "De Mocro Maffia.")
    settings_ = config(receiver.url)
    match_new_articles(engine, settings_, now=T0)
    assert dispatch_due(engine, settings_, now=T0).dead == 1
    assert dispatch_due(engine, settings_, now=T0 + timedelta(days=1)).sent == 0
    with sessions(engine)() as session:
        delivery = session.scalars(select(AlertDelivery)).one()
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("dead", 1, "HTTP 404")
    assert len(receiver.requests) == 1


def test_the_timestamp_is_the_attempts_not_the_rounds(receiver):
    # The round's `now` is T0; the attempt happens an hour later by the channel's clock.
    later = (T0 + timedelta(hours=1)).timestamp()
    channel(receiver.url, clock=lambda: later).send(render(message("x")), T0)
    [(headers, body)] = receiver.requests
    assert headers["webhook-timestamp"] == str(int(later)), "signed with the round's time"
    assert verify(SECRET, headers, body)


def test_a_slow_receiver_with_a_strict_tolerance_accepts_every_send_of_a_round(sqlite_url):
    # Each answer takes a quarter of a second, so the last of sixteen sends of one round
    # leaves about four seconds after the round began. The receiver refuses (400, a dead
    # letter) a timestamp more than 2 s from the request's arrival, in whole seconds as
    # the header has them; signed once per round, the later sends would arrive stale.
    count = 16
    receiver = webhook_receiver.Receiver(tolerance=2, delay=0.25)
    engine = open_engine(sqlite_url)
    try:
        for number in range(count):
            add_article(engine, f"Mocro-Maffia {number}", f"Bericht {number}, Mocro-Maffia.")
        settings_ = config(f"{receiver.base}/hook")
        match_new_articles(engine, settings_)
        report = dispatch_due(engine, settings_)  # the real clock: receivers check it
    finally:
        receiver.close()
        engine.dispose()
    signed = [int(headers["webhook-timestamp"]) for _, headers, _ in receiver.requests]
    # Sends are one after the other: each is signed after the previous one arrived (and
    # was answered), so its timestamp cannot be earlier than that arrival's second.
    previous = receiver.arrived[:-1]  # the arrival before each send but the first
    early = [
        (number, stamp, round(arrived, 2))
        for number, (stamp, arrived) in enumerate(zip(signed[1:], previous, strict=True), 1)
        if stamp < int(arrived)
    ]
    assert early == [], "signed before the previous send arrived: (send, signed, arrived)"
    assert (report.sent, report.retried, report.dead) == (count, 0, 0), "refused as stale"
    assert len(receiver.acked) == count
    assert all(verify(SECRET, headers, body) for _, headers, body in receiver.acked)


def test_a_secret_that_yields_no_key_is_a_dead_letter_at_once(engine, receiver):
    # The configuration refuses such a secret when it loads; a Channel built some other
    # way may still carry one, and no retry can fix it.
    add_article(engine, "Mocro-Maffia", "De Mocro Maffia.")
    settings_ = config(receiver.url)
    match_new_articles(engine, settings_, now=T0)
    bad = replace(settings_.channels["ops"], secrets=MappingProxyType({"secret": "whsec_abc"}))
    report = dispatch_due(engine, settings_, now=T0, channels={"ops": WebhookChannel(bad)})
    assert (report.sent, report.retried, report.dead) == (0, 0, 1)
    with sessions(engine)() as session:
        delivery = session.scalars(select(AlertDelivery)).one()
    assert (delivery.state, delivery.attempts) == ("dead", 1)
    assert delivery.last_error == (
        "the signing secret is unusable: the part after whsec_ is not valid base64 "
        "(Incorrect padding)"
    )
    assert receiver.requests == []
