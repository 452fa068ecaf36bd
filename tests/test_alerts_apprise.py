"""The Apprise channel against real HTTP receivers on loopback: Apprise's generic JSON and
form notifications, and ntfy, Gotify and Mattermost pointed at a stand-in of their API."""

from __future__ import annotations

import logging
import re
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from alerts.channels.apprise import AppriseChannel
from alerts.dispatch import build_channels, dispatch_due
from alerts.engine import match_new_articles
from alerts.errors import PermanentError, TransientError
from alerts.pieces import Room, article_blocks, fit_article, pieces
from alerts.render import AlertMessage, render
from alerts.snippets import Snippet
from crawler.storage.engine import sessions
from crawler.storage.models.alerts import AlertAttempt, AlertDelivery
from newswatch.settings import ConfigError, parse_settings
from tests.alerts_fixtures import T0, add_article, settings
from tests.apprise_receiver import Receiver
from tests.test_alerts_render import item

MATTERMOST_BODY = 4000  # Apprise's body_maxlen for mmost://, a title line included


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free once closed: nobody listens there


def document(urls_env: str = "CHAT_URLS", delivery: str = "instant") -> dict:
    return {
        "alerts": {"backfill_hours": 1_000_000},
        "channels": {"chat": {"kind": "apprise", "urls_env": urls_env, "timeout": 10}},
        "rules": [
            {"name": "mm", "query": '"Mocro-Maffia"', "channels": ["chat"], "delivery": delivery}
        ],
    }


def config(urls: str, delivery: str = "instant"):
    return settings(document(delivery=delivery), {"CHAT_URLS": urls})


def channel(urls: str) -> AppriseChannel:
    return AppriseChannel(config(urls).channels["chat"])


def one_alert(title: str = "De Mocro-Maffia slaat toe", **kw) -> AlertMessage:
    return AlertMessage("msg_abc", "mm", '"Mocro-Maffia"', "instant", (item(title, **kw),))


def deliveries(engine) -> list[tuple[str, int, str | None]]:
    with sessions(engine)() as session:
        rows = session.scalars(select(AlertDelivery).order_by(AlertDelivery.id))
        return [(row.state, row.attempts, row.last_error) for row in rows]


def attempts(engine) -> list[str]:
    with sessions(engine)() as session:
        return list(session.scalars(select(AlertAttempt.outcome).order_by(AlertAttempt.id)))


def test_a_match_lands_through_json_and_form_with_title_body_and_link(engine, receiver):
    add_article(engine, "Nieuws uit Antwerpen", "De Mocro-Maffia.", url="https://hln.example/mm")
    settings_ = config(f"json://{receiver.host}/json, form://{receiver.host}/form")
    match_new_articles(engine, settings_, now=T0)
    assert dispatch_due(engine, settings_, now=T0).sent == 1
    by_path = {request.path: request for request in receiver.requests}
    assert sorted(by_path) == ["/form", "/json"]
    posted = by_path["/json"].json()
    form = by_path["/form"].form()
    for fields in (posted, form):
        assert fields["title"] == "[newswatch] mm: Nieuws uit Antwerpen"
        assert "\n\nNieuws uit Antwerpen\nhttps://hln.example/mm\nhln · " in fields["message"]
    assert by_path["/json"].headers["content-type"] == "application/json"
    assert by_path["/form"].headers["content-type"] == "application/x-www-form-urlencoded"
    [(state, tries, _)] = deliveries(engine)
    assert (state, tries) == ("sent", 1)


def test_a_500_then_200_is_retried_and_delivered_once_with_the_attempts_logged(engine, receiver):
    receiver.answers = [500]
    add_article(engine, "Mocro-Maffia", "De Mocro-Maffia.")
    settings_ = config(f"json://{receiver.host}/hook")
    match_new_articles(engine, settings_, now=T0)
    channels = build_channels(settings_)  # the service keeps its channels across rounds
    now, outcomes = T0, []
    for _ in range(4):
        report = dispatch_due(engine, settings_, now=now, channels=channels)
        outcomes.append((report.sent, report.retried, report.dead))
        now += timedelta(hours=1)
    assert outcomes == [(0, 1, 0), (1, 0, 0), (0, 0, 0), (0, 0, 0)]
    assert len(receiver.requests) == 2
    assert receiver.requests[0].body == receiver.requests[1].body  # the same message again
    assert attempts(engine) == ["retry", "sent"]
    [(state, tries, _)] = deliveries(engine)
    assert (state, tries) == ("sent", 2)


@pytest.mark.parametrize("status", [400, 404])
def test_a_refusal_goes_to_the_dead_letters(engine, receiver, status):
    receiver.answers = [status]
    add_article(engine, "Mocro-Maffia", "De Mocro-Maffia.")
    settings_ = config(f"json://{receiver.host}/hook")
    match_new_articles(engine, settings_, now=T0)
    assert dispatch_due(engine, settings_, now=T0).dead == 1
    assert dispatch_due(engine, settings_, now=T0 + timedelta(days=1)).sent == 0
    [(state, tries, error)] = deliveries(engine)
    assert (state, tries) == ("dead", 1)
    assert error.startswith(f"target 1 (json): HTTP {status}: ")
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("status", [408, 429, 502, 503])
def test_a_server_error_or_a_request_to_slow_down_is_transient(receiver, status):
    receiver.answers = [status]
    with pytest.raises(TransientError, match=f"HTTP {status}"):
        channel(f"json://{receiver.host}/hook").send(render(one_alert()), T0)


def test_nobody_listening_is_transient_and_no_word_of_the_url_is_kept():
    url = f"json://deskuser:s3cretpass@127.0.0.1:{closed_port()}/hooks/T0K3N-abc"
    with pytest.raises(TransientError) as raised:
        channel(url).send(render(one_alert()), T0)
    text = str(raised.value)
    assert text.startswith("target 1 (json): ")
    for secret in ("deskuser", "s3cretpass", "T0K3N-abc", "127.0.0.1"):
        assert secret not in text


def test_a_target_that_does_not_answer_in_time_is_transient():
    with socket.socket() as silent:  # takes connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        cfg = settings(
            {"channels": {"chat": {"kind": "apprise", "urls_env": "U", "timeout": 1}}},
            {"U": f"json://127.0.0.1:{silent.getsockname()[1]}/hook"},
        )
        with pytest.raises(TransientError, match=r"^target 1 \(json\): no answer within 1s$"):
            AppriseChannel(cfg.channels["chat"]).send(render(one_alert()), T0)


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_apprise_quoting_the_url_reaches_neither_the_error_nor_the_log():
    # ntfy's message on a failed connection quotes the address, topic included: for
    # ntfy.sh the topic is the only secret. newswatch's log hangs on the root logger.
    root, kept = logging.getLogger(), Kept()
    level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(kept)
    try:
        with pytest.raises(TransientError) as raised:
            url = f"ntfy://127.0.0.1:{closed_port()}/s3cr3t-topic"
            channel(url).send(render(one_alert()), T0)
    finally:
        root.removeHandler(kept)
        root.setLevel(level)
    assert str(raised.value).startswith("target 1 (ntfy): A Connection error occurred")
    assert "s3cr3t" not in str(raised.value)
    assert not [line for line in kept.lines if "s3cr3t" in line]


def test_a_partial_failure_is_retried_only_to_the_target_that_failed(engine):
    first, second = Receiver(), Receiver()
    try:
        second.answers = [503]
        add_article(engine, "Mocro-Maffia", "De Mocro-Maffia.")
        settings_ = config(f"json://{first.host}/a json://{second.host}/b")
        match_new_articles(engine, settings_, now=T0)
        channels = build_channels(settings_)
        report = dispatch_due(engine, settings_, now=T0, channels=channels)
        assert (report.sent, report.retried) == (0, 1)
        [(_, _, error)] = deliveries(engine)
        assert error.startswith("target 2 (json): HTTP 503")
        later = T0 + timedelta(hours=1)
        assert dispatch_due(engine, settings_, now=later, channels=channels).sent == 1
        assert (len(first.requests), len(second.requests)) == (1, 2)
    finally:
        first.close()
        second.close()


def test_two_copies_of_a_story_make_one_alert(engine, receiver):
    story = add_article(engine, "Mocro-Maffia", "De Mocro-Maffia en de DGST.")
    add_article(engine, "Kopie", "De Mocro-Maffia en de DGST.", story_of=story, source="vrt")
    settings_ = config(f"json://{receiver.host}/hook")
    assert match_new_articles(engine, settings_, now=T0).matches == 1
    assert dispatch_due(engine, settings_, now=T0).sent == 1
    assert len(receiver.requests) == 1


def test_a_daily_digest_too_long_for_mattermost_is_split_and_keeps_every_link(engine, receiver):
    # Forty articles of ~400 characters each: about 16,000 characters for a service that
    # takes 4,000 a message, title included.
    links = []
    for number in range(40):
        link = f"https://hln.example/2026/11/29/mocro-maffia-{number:02d}"
        links.append(link)
        words = " ".join(f"woord{number}x{word}" for word in range(30))
        add_article(engine, f"Aflevering {number}", f"Mocro-Maffia. {words}", url=link)
    settings_ = config(f"mmost://{receiver.host}/hooktoken", delivery="daily")
    match_new_articles(engine, settings_, now=T0)
    next_morning = T0.replace(hour=8) + timedelta(days=1)
    assert dispatch_due(engine, settings_, now=next_morning).sent == 1
    texts = [request.json()["text"] for request in receiver.requests]
    assert {request.path for request in receiver.requests} == {"/hooks/hooktoken"}
    assert len(texts) > 1
    assert all(len(text) <= MATTERMOST_BODY for text in texts)
    total = len(texts)
    for number, text in enumerate(texts, 1):
        assert text.startswith("[newswatch] mm: 40 new articles until 2026-11-30 08:00 UTC")
        assert f"({number}/{total})" in text.split("\r\n")[0]
    found = [line for text in texts for line in text.replace("\r\n", "\n").split("\n")]
    assert [line for line in found if line.startswith("https://")] == links  # each once, in order
    headlines = [line for line in found if line.startswith("Aflevering ")]
    assert headlines == [f"Aflevering {number}" for number in range(40)]


def test_one_article_too_long_for_mattermost_keeps_headline_and_link(receiver):
    link = "https://hln.example/" + "lang-pad/" * 200  # 1,820 characters
    snippets = tuple(Snippet(f"Fragment {n}: " + "tekst " * 160, ()).as_json() for n in range(4))
    message = one_alert("Mocro-Maffia: " + "kop " * 120, url=link, snippets=snippets)
    rendered = render(message)
    assert len(rendered.text) > MATTERMOST_BODY + 2000
    channel(f"mmost://{receiver.host}/hooktoken").send(rendered, T0)
    [request] = receiver.requests
    text = request.json()["text"]
    assert len(text) <= MATTERMOST_BODY
    body = text.split("\r\n", 1)[1]  # after the title line
    assert body.startswith('Rule mm: "Mocro-Maffia"\n\nMocro-Maffia: kop kop kop')
    assert body.split("\n")[3] == link  # whole, right after the headline
    assert "Fragment 0" in text and "Fragment 3" not in text  # the tail goes first


def test_ntfy_gotify_and_xml_end_to_end(receiver):
    urls = f"ntfy://{receiver.host}/desk gotify://{receiver.host}/AppTok3n xml://{receiver.host}/x"
    note = channel(urls).send(render(one_alert(url="https://hln.example/mm")), T0)
    assert note == "Apprise: 3 message(s) accepted by 3 target(s) (ntfy, gotify, xml)"
    ntfy, gotify, xml = receiver.requests
    assert (ntfy.path, ntfy.json()["topic"]) == ("/", "desk")
    assert (gotify.path, gotify.headers["x-gotify-key"]) == ("/message", "AppTok3n")
    for posted in (ntfy.json(), gotify.json()):
        assert posted["title"] == "[newswatch] mm: De Mocro-Maffia slaat toe"
        assert "De Mocro-Maffia slaat toe\nhttps://hln.example/mm\n" in posted["message"]
    assert (xml.path, xml.headers["content-type"]) == ("/x", "application/xml")
    assert b"<Subject>[newswatch] mm: De Mocro-Maffia slaat toe</Subject>" in xml.body
    assert b"De Mocro-Maffia slaat toe\nhttps://hln.example/mm\n" in xml.body


def test_redirects_are_not_followed(receiver):
    receiver.answers = [302]
    with pytest.raises(PermanentError, match="HTTP 302"):
        channel(f"json://{receiver.host}/hook").send(render(one_alert()), T0)
    assert len(receiver.requests) == 1


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({}, "environment variable CHAT_URLS is not set"),
        ({"CHAT_URLS": ""}, "environment variable CHAT_URLS is not set"),
        ({"CHAT_URLS": " , "}, "environment variable CHAT_URLS holds no Apprise URL"),
        (
            {"CHAT_URLS": "json://127.0.0.1/ok tgram://s3cr3t-bot-token/chat"},
            "environment variable CHAT_URLS holds a URL Apprise cannot use "
            "(URL 2, tgram://): Unparseable Telegram URL tgram://…",
        ),
        (
            {"CHAT_URLS": "nosuchservice://s3cr3t-host/path"},
            "environment variable CHAT_URLS holds a URL Apprise cannot use "
            "(URL 1, nosuchservice://): Unparseable URL nosuchservice://…",
        ),
        (
            {"CHAT_URLS": "json://s3cr3t-host/?overflow=sometimes"},
            "environment variable CHAT_URLS holds a URL Apprise cannot use "
            "(URL 1, json://): Unsupported overflow mode specified 'sometimes'",
        ),
        (
            {"CHAT_URLS": "not-a-url-s3cr3t"},
            "environment variable CHAT_URLS holds a URL Apprise cannot use "
            "(URL 1): Unsupported URL: …",
        ),
        (
            {"CHAT_URLS": "json://127.0.0.1/x json://127.0.0.1/x"},
            "environment variable CHAT_URLS holds the same URL twice (URL 2, json://, as URL 1)",
        ),
    ],
)
def test_a_bad_or_missing_url_is_a_config_error_naming_file_channel_and_key(env, problem):
    with pytest.raises(ConfigError) as raised:
        parse_settings(document(), Path("n.toml"), env)
    assert raised.value.lines() == [f"n.toml: channels.chat.urls_env: {problem}"]
    assert "s3cr3t" not in str(raised.value)


def test_the_text_has_the_shape_the_cutting_relies_on():
    # article_blocks reads alerts.render's text: if that changes, this says so.
    text = render(one_alert("Kop", url="https://hln.example/a")).text
    head, [article] = article_blocks(text, 1)
    assert head == 'Rule mm: "Mocro-Maffia"'
    assert article[:2] == ["Kop", "https://hln.example/a"]
    assert article[3].startswith("  … ")
    assert article_blocks(text, 2) is None


def test_fitting_drops_snippets_then_details_then_the_headline_end_never_the_link():
    lines = ["A headline of some length", "https://x.example/a", "details", "  … one", "  … two"]
    assert fit_article(lines, Room(200)) == "\n".join(lines)
    assert fit_article(lines, Room(60)) == "A headline of some length\nhttps://x.example/a\ndetails"
    assert fit_article(lines, Room(30)) == "A headlin…\nhttps://x.example/a"
    assert fit_article(lines, Room(20)) == "https://x.example/a"
    assert (
        fit_article(lines, Room(200, lines=2)) == "A headline of some length\nhttps://x.example/a"
    )


def test_pieces_keep_whole_articles_and_every_link():
    text = render(
        AlertMessage(
            "msg_d",
            "mm",
            "q",
            "daily",
            tuple(item(f"Kop {n}", url=f"https://x.example/{n}") for n in range(12)),
        )
    ).text
    cut = pieces(text, 12, Room(300))
    assert len(cut) > 1 and all(len(piece) <= 300 for piece in cut)
    assert re.findall(r"https://x\.example/\d+", "\n".join(cut)) == [
        f"https://x.example/{n}" for n in range(12)
    ]
    [whole] = pieces(text, 12, Room(100_000))
    assert whole.count("\n") == text.strip().count("\n")  # only the order of lines changed
