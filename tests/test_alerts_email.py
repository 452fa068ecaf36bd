"""The email channel against a real aiosmtpd server on loopback."""

from __future__ import annotations

import email
import socket
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from alerts.channels.email import EmailChannel
from alerts.dispatch import dispatch_due
from alerts.engine import match_new_articles
from alerts.errors import PermanentError, TransientError
from alerts.render import AlertMessage, render
from tests.alerts_fixtures import T0, add_article, settings
from tests.test_alerts_render import item


class Mailbox:
    """An SMTP handler that keeps what it receives, or answers with a given reply."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], email.message.EmailMessage]] = []
        self.replies: list[str] = []  # answers to DATA, used up first

    async def handle_DATA(self, server, session, envelope):
        if self.replies:
            return self.replies.pop(0)
        parsed = email.message_from_bytes(envelope.original_content, policy=policy.default)
        self.received.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(mailbox: Mailbox, port: int, **kwargs) -> Controller:
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller


@pytest.fixture
def smtp():
    mailbox, port = Mailbox(), free_port()
    controller = start(mailbox, port)
    yield mailbox, port
    controller.stop()


def config(port: int, **extra):
    channel = {
        "kind": "email",
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "sender": "newswatch@example.org",
        "recipients": ["desk@example.org"],
        "timeout": 5,
        **extra,
    }
    return settings(
        {
            "alerts": {"backfill_hours": 1_000_000},
            "channels": {"desk-mail": channel},
            "rules": [{"name": "mm", "query": '"Mocro-Maffia"', "channels": ["desk-mail"]}],
        },
        {"SMTP_USER": "alice", "SMTP_PASSWORD": "s3cret"},
    )


def message(title: str) -> AlertMessage:
    return AlertMessage("msg_abc", "mm", '"Mocro-Maffia"', "instant", (item(title),))


def test_plain_text_and_html_with_a_stable_message_id(smtp):
    mailbox, port = smtp
    channel = EmailChannel(config(port).channels["desk-mail"])
    assert channel.send(render(message("De Mocro Maffia")), T0) == "SMTP accepted"
    [(recipients, received)] = mailbox.received
    assert recipients == ["desk@example.org"]
    assert received["Subject"] == "[newswatch] mm: De Mocro Maffia"
    assert received["Message-ID"] == "<msg_abc@example.org>"
    assert received.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in received.iter_parts()]
    assert kinds == ["text/plain", "text/html"]
    assert "<mark>Mocro-Maffia</mark>" in received.get_body(("html",)).get_content()


def test_login_uses_credentials_from_the_environment():
    seen = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=True)

    mailbox, port = Mailbox(), free_port()
    controller = start(mailbox, port, authenticator=authenticator, auth_require_tls=False)
    try:
        settings_ = config(port, username_env="SMTP_USER", password_env="SMTP_PASSWORD")
        EmailChannel(settings_.channels["desk-mail"]).send(render(message("x")), T0)
    finally:
        controller.stop()
    assert seen == [(b"alice", b"s3cret")]
    assert len(mailbox.received) == 1


def test_4xx_is_transient_and_5xx_permanent(smtp):
    mailbox, port = smtp
    channel = EmailChannel(config(port).channels["desk-mail"])
    mailbox.replies = ["451 4.3.0 try again later", "550 5.1.1 no such user"]
    with pytest.raises(TransientError, match="451"):
        channel.send(render(message("x")), T0)
    with pytest.raises(PermanentError, match="550"):
        channel.send(render(message("x")), T0)
    assert mailbox.received == []


def test_header_injection_through_the_title_adds_no_header(engine, smtp):
    mailbox, port = smtp
    add_article(engine, "Mocro-Maffia\r\nBcc: victim@example.org\r\nX-Evil: 1", "De Mocro Maffia.")
    match_new_articles(engine, config(port), now=T0)
    assert dispatch_due(engine, config(port), now=T0).sent == 1
    [(recipients, received)] = mailbox.received
    assert recipients == ["desk@example.org"]
    assert received["Bcc"] is None and received["X-Evil"] is None
    assert "\n" not in received["Subject"]


def test_script_in_the_title_is_escaped_in_the_html_part(engine, smtp):
    mailbox, port = smtp
    add_article(engine, "<script>alert(1)</script> Mocro-Maffia", "De Mocro Maffia <b>x</b>.")
    match_new_articles(engine, config(port), now=T0)
    dispatch_due(engine, config(port), now=T0)
    [(_, received)] = mailbox.received
    html = received.get_body(("html",)).get_content()
    assert "<script>" not in html and "<b>x</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_smtp_down_then_up_delivers_once(engine):
    port = free_port()  # nothing listens here yet
    add_article(engine, "Mocro-Maffia", "De Mocro Maffia.")
    match_new_articles(engine, config(port), now=T0)
    first = dispatch_due(engine, config(port), now=T0)
    assert (first.sent, first.retried) == (0, 1)
    mailbox = Mailbox()
    controller = start(mailbox, port)
    try:
        assert dispatch_due(engine, config(port), now=T0).sent == 0  # not due yet
        later = T0 + timedelta(hours=1)
        assert dispatch_due(engine, config(port), now=later).sent == 1
        assert dispatch_due(engine, config(port), now=later + timedelta(days=1)).sent == 0
    finally:
        controller.stop()
    assert len(mailbox.received) == 1
