"""Channel addresses stay secret: only scheme and host shown, on pages, in the API and the CLI."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from alerts.config import parse_alert_settings
from alerts.dispatch import build_channels, dispatch_due
from alerts.redact import redact_urls
from crawler.storage import deliveries
from crawler.storage.engine import sessions
from crawler.storage.models.alerts import AlertAttempt, AlertDelivery
from newswatch.commands.alerts import show_log
from tests import web_fixtures
from tests.web_fixtures import parse_html

SECRET = "B07XYZ/aBcDeFgHiJkLmNoPqRsTuVwX"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            f"https://hooks.slack.com/services/T000/{SECRET}: [Errno 111] Connection refused",
            "https://hooks.slack.com: [Errno 111] Connection refused",
        ),
        (
            "gave up after 9 attempts: https://acme.webhook.office.com/webhookb2/abc@def/"
            "IncomingWebhook/123/456.",
            "gave up after 9 attempts: https://acme.webhook.office.com.",
        ),
        (
            "unexpected ValueError: 'https://discord.com/api/webhooks/1/tok?wait=true'",
            "unexpected ValueError: 'https://discord.com'",
        ),
        (
            "<urlopen error http://user:pw@[2001:db8::1]:8443/hook#frag>",
            "<urlopen error http://[2001:db8::1]>",
        ),
        (
            "(https://a.example/x) and HTTPS://B.example:9/y, then",
            "(https://a.example) and https://b.example, then",
        ),
        ("http://[::1 broken", "http://(redacted) broken"),
        ("HTTP 500 <b>boom</b>", "HTTP 500 <b>boom</b>"),
        (None, None),
        ("", ""),
    ],
)
def test_addresses_keep_only_scheme_and_host(text, shown):
    assert redact_urls(text) == shown


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port held but not listening: a connection to it is refused at once."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


@pytest.fixture
def failed(engine, closed_port):
    """The dead webhook delivery retried by the real dispatcher, to a receiver that is away,
    beside a row stored before channels redacted their own errors (if they ever do)."""
    site = web_fixtures.Site(engine, web_fixtures.settings(), web_fixtures.populate(engine))
    url = f"http://127.0.0.1:{closed_port}/services/T000/{SECRET}"
    document = {
        "channels": {"ops-webhook": {"kind": "webhook", "url": url, "secret_env": "HOOK"}},
        "rules": [
            {"name": "mocro-maffia", "query": "Mocro*", "channels": ["ops-webhook"]},
            {"name": "dgst", "query": "DGST"},
        ],
    }
    alerts, problems = parse_alert_settings(document, {"HOOK": "whsec_c2VjcmV0"})
    assert not problems
    now = datetime.now(UTC)
    with sessions(engine)() as session, session.begin():
        deliveries.requeue_dead(session, now, [site.ids["delivery_dead"]])
    channels = build_channels(alerts, console=io.StringIO())
    assert dispatch_due(engine, alerts, now=now, channels=channels).retried == 1
    legacy = f"gave up after 3 attempts: {url}: timed out"
    with sessions(engine)() as session, session.begin():
        session.get(AlertDelivery, site.ids["delivery_sent"]).last_error = legacy
        session.add(
            AlertAttempt(
                delivery_id=site.ids["delivery_sent"],
                attempted_at=now,
                outcome="dead",
                detail=legacy,
            )
        )
    with sessions(engine)() as session:
        stored = session.get(AlertDelivery, site.ids["delivery_dead"]).last_error
    # today the webhook channel stores the whole address (alerts/channels/webhook.py)
    assert "refused" in stored
    return site, closed_port


def assert_redacted(text: str, port: int, where: str) -> None:
    assert SECRET not in text and "/services/" not in text, f"{where} shows the webhook URL"
    assert f":{port}" not in text, f"{where} shows the webhook's port"
    assert "http://127.0.0.1" in text, f"{where} no longer says which host failed"


def test_pages_and_api_show_the_webhook_host_only(failed):
    site, port = failed
    with TestClient(site.app(), base_url="http://localhost") as client:
        page = parse_html(client.get("/alerts").text).text
        assert_redacted(page, port, "the alert log")
        api = client.get("/api/deliveries").json()["items"]
        errors = " ".join(item["last_error"] or "" for item in api)
        assert_redacted(errors, port, "/api/deliveries")


def test_alerts_log_shows_the_webhook_host_only(failed, engine):
    _, port = failed
    out = io.StringIO()
    show_log(engine, out, attempts=True)
    assert "refused" in out.getvalue()  # the reason is still shown
    assert_redacted(out.getvalue(), port, "`newswatch alerts log --attempts`")
