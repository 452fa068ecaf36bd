"""Edit alerts: later versions of a matched article, alerted once per version where a rule asks."""

from __future__ import annotations

import base64
import email
import io
import json
import socket
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from alembic import command
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from alerts.config import parse_alert_settings
from alerts.diffs import Piece, first_changed_paragraph, text_diff, word_diff
from alerts.dispatch import build_channels
from alerts.engine import match_new_articles
from alerts.runner import run_once
from crawler.storage.engine import alembic_config, migrate, sessions
from crawler.storage.models import Article
from crawler.storage.models.alerts import AlertDelivery, AlertState
from crawler.storage.models.versions import ArticleVersion
from newswatch.settings import ConfigError, load_settings
from tests.alerts_fixtures import T0, add_article, settings
from tests.test_storage_migrations import differences
from tests.webhook_receiver import Receiver

SECRET = "whsec_" + base64.b64encode(b"a shared secret of 24 b.").decode()
TITLE = "Mocro-Maffia slaat toe in Antwerpen"
TEXT = (
    "De Mocro-Maffia is terug in het nieuws.\n"
    "De politie viel binnen in drie woningen in Borgerhout en nam wapens in beslag.\n"
    "Het parket geeft geen commentaar."
)
EDITED_TEXT = TEXT.replace("drie woningen", "vijf woningen")


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.close()


def config(url: str, *, quiet_rule: bool = True, on_edit: object = True):
    rules = [
        {"name": "mm", "query": '"Mocro-Maffia"', "channels": ["ops", "desk"], "on_edit": on_edit}
    ]
    if quiet_rule:
        rules.append({"name": "quiet", "query": "Borgerhout", "channels": ["desk"]})
    return settings(
        {
            "alerts": {"backfill_hours": 1_000_000, "timezone": "Europe/Brussels"},
            "channels": {
                "ops": {"kind": "webhook", "url": url, "secret_env": "S"},
                "desk": {"kind": "console"},
            },
            "rules": rules,
        },
        {"S": SECRET},
    )


def add_version(engine, article_id: int, number: int, change: str, changed: str, **fields) -> int:
    """A re-fetch as the version recorder stores it: the fields of the page as now seen."""
    with sessions(engine)() as session, session.begin():
        article = session.get(Article, article_id)
        before = session.scalar(
            select(ArticleVersion)
            .where(ArticleVersion.article_id == article_id)
            .order_by(ArticleVersion.number.desc())
            .limit(1)
        )
        before = before or article
        values = {
            "title": before.title,
            "text": before.text,
            "author": before.author,
            "published_at": before.published_at,
            "status": 200,
            "final_url": article.url,
            "seen_at": T0 + timedelta(hours=number),
        }
        values.update(fields)
        version = ArticleVersion(
            article_id=article_id,
            number=number,
            change=change,
            changed=changed,
            content_hash=f"hash-{article_id}-{number}",
            **values,
        )
        session.add(version)
        session.flush()
        return version.id


def edit_deliveries(engine, rule: str | None = None) -> list[AlertDelivery]:
    with sessions(engine)() as session:
        query = select(AlertDelivery).where(AlertDelivery.version_id.is_not(None))
        if rule:
            query = query.where(AlertDelivery.rule == rule)
        return list(session.scalars(query.order_by(AlertDelivery.id)))


def count_deliveries(engine) -> int:
    with sessions(engine)() as session:
        return session.scalar(select(func.count()).select_from(AlertDelivery))


def payloads(receiver: Receiver) -> list[dict]:
    return [json.loads(body) for _, _, body in receiver.requests]


def test_four_versions_alert_once_each_with_their_change_and_diff(engine, receiver):
    config_ = config(receiver.base + "/hook")
    out = io.StringIO()
    channels = build_channels(config_, out)
    article = add_article(engine, TITLE, TEXT, url="https://hln.example/mocro")
    now = T0
    run_once(engine, config_, now=now, channels=channels)
    assert [p["type"] for p in payloads(receiver)] == ["alert"]
    versions = [
        (2, "edited", "title", {"title": "Mocro-Maffia slaat opnieuw toe in Antwerpen"}),
        (3, "edited", "text", {"text": EDITED_TEXT}),
        (4, "edited", "published_at", {"published_at": T0 + timedelta(hours=2)}),
        (5, "removed", "", {"status": 410, "title": None, "text": None}),
    ]
    for number, change, changed, fields in versions:
        add_version(engine, article, number, change, changed, **fields)
        now += timedelta(hours=1)
        found, sent = run_once(engine, config_, now=now, channels=channels)
        assert (found.edits, sent.sent) == (2, 2), f"version {number}: one per channel"
        # the same round again: nothing more is queued or sent
        found, sent = run_once(engine, config_, now=now, channels=channels)
        assert (found.edits, sent.sent) == (0, 0), f"version {number} alerted twice"

    with sessions(engine)() as session:
        quiet = session.scalars(select(AlertDelivery).where(AlertDelivery.rule == "quiet")).all()
    assert len(quiet) == 1, "the rule without on_edit matched the same article"
    mm = edit_deliveries(engine, "mm")
    assert len(mm) == 8 and {row.state for row in mm} == {"sent"}
    assert edit_deliveries(engine, "quiet") == [], "a rule without on_edit gets no edit alerts"
    receiver.wait_for_acks(5)

    edits = [p for p in payloads(receiver) if p["type"] == "edit"]
    assert [p["matches"][0]["edit"]["version"] for p in edits] == [2, 3, 4, 5]
    title, text, date, removed = (p["matches"][0]["edit"] for p in edits)
    assert title["change"] == "edited" and title["changed"] == ["title"]
    assert title["title"] == {
        "previous": TITLE,
        "new": "Mocro-Maffia slaat opnieuw toe in Antwerpen",
    }
    assert {"op": "added", "text": "opnieuw"} in title["diff"]["title"]
    assert text["diff"]["text"] == [
        {"op": "same", "text": "De politie viel binnen in"},
        {"op": "removed", "text": "drie"},
        {"op": "added", "text": "vijf"},
        {"op": "same", "text": "woningen in Borgerhout en nam wapens in beslag."},
    ]
    assert date["changed"] == ["published_at"] and date["published_at"] == {
        "previous": T0.isoformat(),
        "new": (T0 + timedelta(hours=2)).isoformat(),
    }
    assert (removed["change"], removed["status"], removed["diff"]) == ("removed", 410, {})
    assert all(p["matches"][0]["article"]["url"] == "https://hln.example/mocro" for p in edits)
    assert len({p["id"] for p in edits}) == 4

    console = out.getvalue()
    assert "=== [newswatch] mm: Edited: Mocro-Maffia slaat opnieuw toe in Antwerpen" in console
    assert "headline: Mocro-Maffia slaat {+opnieuw+} toe in Antwerpen" in console
    assert "text: De politie viel binnen in [-drie-] {+vijf+} woningen" in console
    assert "date: 2026-11-29 10:00 CET → 2026-11-29 12:00 CET" in console
    assert "=== [newswatch] mm: Removed: Mocro-Maffia slaat opnieuw toe in Antwerpen" in console
    assert "answer: HTTP 410" in console
    assert "version 5 · seen 2026-11-29 15:00 CET" in console


def test_versions_of_articles_no_rule_matched_and_of_other_copies_alert_nothing(engine, receiver):
    config_ = config(receiver.base + "/hook")
    matched = add_article(engine, TITLE, TEXT)
    copy = add_article(engine, "Kopie: " + TITLE, TEXT, story_of=matched, source="vrt")
    unrelated = add_article(engine, "Weerbericht", "Morgen regen in Antwerpen.")
    match_new_articles(engine, config_, now=T0)
    add_version(engine, unrelated, 2, "edited", "text", text="Morgen zon.")
    add_version(engine, copy, 2, "edited", "title", title="Kopie bijgewerkt")
    report = match_new_articles(engine, config_, now=T0 + timedelta(hours=1))
    assert report.edits == 0 and edit_deliveries(engine) == []
    # the version watermark passed them: a later round does not find them either
    with sessions(engine)() as session:
        assert session.get(AlertState, 1).last_version_id == 2


def test_the_unique_constraint_keeps_a_replayed_round_from_queueing_again(engine, receiver):
    config_ = config(receiver.base + "/hook", quiet_rule=False)
    article = add_article(engine, TITLE, TEXT)
    match_new_articles(engine, config_, now=T0)
    add_version(engine, article, 2, "edited", "text", text=EDITED_TEXT)
    assert match_new_articles(engine, config_, now=T0 + timedelta(hours=1)).edits == 2
    # as if the watermark's move had been lost while the deliveries stayed
    with sessions(engine)() as session, session.begin():
        session.execute(update(AlertState).values(last_version_id=0))
    assert match_new_articles(engine, config_, now=T0 + timedelta(hours=1)).edits == 0
    assert len(edit_deliveries(engine)) == 2


def test_a_version_committed_late_below_the_watermark_still_alerts(engine, receiver):
    # On PostgreSQL version id 2 can commit after id 3 was looked at: recent ones are
    # looked at again until they have their alert.
    config_ = config(receiver.base + "/hook", quiet_rule=False)
    article = add_article(engine, TITLE, TEXT)
    other = add_article(engine, "Weerbericht", "Regen.")
    match_new_articles(engine, config_, now=T0)
    late = add_version(engine, article, 2, "edited", "text", text=EDITED_TEXT)
    add_version(engine, other, 2, "edited", "text", text="Zon.")
    with sessions(engine)() as session, session.begin():
        session.execute(update(AlertState).values(last_version_id=late + 1))
    assert match_new_articles(engine, config_, now=T0 + timedelta(hours=2, minutes=30)).edits == 2
    assert {row.version_id for row in edit_deliveries(engine)} == {late}


def test_turning_on_edit_on_later_alerts_only_on_edits_from_then_on(engine, receiver):
    article = add_article(engine, TITLE, TEXT)
    match_new_articles(engine, config(receiver.base, on_edit=False), now=T0)
    add_version(engine, article, 2, "edited", "text", text=EDITED_TEXT)
    match_new_articles(engine, config(receiver.base, on_edit=False), now=T0 + timedelta(hours=2))
    watching = config(receiver.base)
    assert match_new_articles(engine, watching, now=T0 + timedelta(hours=5)).edits == 0
    add_version(engine, article, 3, "redirected", "", final_url="https://hln.example/elders")
    assert match_new_articles(engine, watching, now=T0 + timedelta(hours=6)).edits == 2


def test_a_redirect_and_a_failing_receiver_go_through_retries_like_any_alert(engine, receiver):
    failures = iter([True, True])  # the receiver drops the first two requests unanswered
    receiver.gate = lambda *_: not next(failures, False)
    config_ = config(receiver.base + "/hook", quiet_rule=False)
    article = add_article(engine, TITLE, TEXT)
    match_new_articles(engine, config_, now=T0)
    add_version(engine, article, 2, "redirected", "", final_url="https://hln.example/elders")
    match_new_articles(engine, config_, now=T0 + timedelta(hours=1))
    channels = build_channels(config_, io.StringIO())
    outcomes, now = [], T0 + timedelta(hours=1)
    for _ in range(4):
        report = run_once(engine, config_, now=now, channels=channels)[1]
        outcomes.append((report.sent, report.retried))
        now += timedelta(hours=1)
    # to the console both go at once; to the webhook each fails once, then goes, once
    assert outcomes == [(2, 2), (2, 0), (0, 0), (0, 0)]
    receiver.wait_for_acks(2)
    edits = [json.loads(body) for _, _, body in receiver.acked if b'"type":"edit"' in body]
    assert len(edits) == 1
    edit = edits[0]["matches"][0]["edit"]
    assert (edit["change"], edit["final_url"]) == ("redirected", "https://hln.example/elders")
    ids = [h["webhook-id"] for _, h, body in receiver.requests if b'"type":"edit"' in body]
    assert len(ids) == 2 and len(set(ids)) == 1, "a retry sends the same message id"


def test_a_daily_digest_includes_the_edit_marked_as_one(engine):
    config_ = settings(
        {
            "alerts": {"backfill_hours": 1_000_000},
            "rules": [
                {"name": "daily", "query": '"Mocro-Maffia"', "delivery": "daily", "on_edit": True}
            ],
        }
    )
    out = io.StringIO()
    channels = build_channels(config_, out)
    first = add_article(engine, TITLE, TEXT)
    add_article(engine, "Mocro-Maffia: proces begint", "De Mocro-Maffia voor de rechter.")
    run_once(engine, config_, now=T0, channels=channels)
    add_version(engine, first, 2, "edited", "title", title="Mocro-Maffia slaat twee keer toe")
    run_once(engine, config_, now=T0 + timedelta(hours=2), channels=channels)
    assert out.getvalue() == ""  # digests wait for their hour
    next_morning = T0.replace(hour=8) + timedelta(days=1)
    assert run_once(engine, config_, now=next_morning, channels=channels)[1].sent == 1
    text = out.getvalue()
    assert text.count("=== ") == 1
    assert "[newswatch] daily: 2 new articles, 1 edit until 2026-11-30 08:00 UTC" in text
    assert "*Mocro-Maffia* slaat toe in Antwerpen" in text and "proces begint" in text
    assert "Edited: Mocro-Maffia slaat twee keer toe" in text
    assert "headline: Mocro-Maffia slaat {+twee keer+} toe [-in Antwerpen-]" in text


class Mailbox:
    def __init__(self) -> None:
        self.received: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append(
            email.message_from_bytes(envelope.original_content, policy=policy.default)
        )
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_edit_by_email_escapes_the_changed_text(engine):
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        config_ = settings(
            {
                "alerts": {"backfill_hours": 1_000_000},
                "channels": {
                    "mail": {
                        "kind": "email",
                        "host": "127.0.0.1",
                        "port": port,
                        "security": "none",
                        "sender": "newswatch@example.org",
                        "recipients": ["desk@example.org"],
                    }
                },
                "rules": [
                    {"name": "mm", "query": '"Mocro-Maffia"', "channels": ["mail"], "on_edit": True}
                ],
            }
        )
        article = add_article(engine, TITLE, TEXT)
        match_new_articles(engine, config_, now=T0)
        evil = 'Mocro-Maffia <script>alert("x")</script>'
        changed = TEXT.replace("drie woningen", "<img src=x onerror=alert(1)> woningen")
        add_version(engine, article, 2, "edited", "title,text", title=evil, text=changed)
        assert run_once(engine, config_, now=T0 + timedelta(hours=1))[1].sent == 2
    finally:
        controller.stop()
    edit = mailbox.received[-1]
    assert edit["Subject"] == f"[newswatch] mm: Edited: {evil}"
    html = edit.get_body(("html",)).get_content()
    assert "<script>" not in html and "<img" not in html
    assert "<ins" in html and "&lt;script&gt;" in html and "&lt;img src=x" in html
    plain = edit.get_body(("plain",)).get_content()
    assert "changed: headline, text" in plain


def test_on_edit_must_be_true_or_false(tmp_path):
    path = tmp_path / "newswatch.toml"
    path.write_text('[[rules]]\nname = "mm"\nquery = "x"\non_edit = "yes"\n')
    with pytest.raises(ConfigError) as raised:
        load_settings(path, {})
    assert str(raised.value) == (
        f"{path}: rules[0].on_edit: rule 'mm': must be true or false (got 'yes')"
    )
    parsed, problems = parse_alert_settings({"rules": [{"name": "mm", "query": "x"}]}, {})
    assert problems == [] and parsed.rules[0].on_edit is False


def test_word_diff_keeps_a_little_context_and_is_bounded():
    before = " ".join(f"w{i}" for i in range(100))
    after = before.replace("w50", "CHANGED")
    pieces = word_diff(before, after)
    assert pieces[0] == Piece("same", "… " + " ".join(f"w{i}" for i in range(42, 50)))
    assert pieces[1:3] == (Piece("removed", "w50"), Piece("added", "CHANGED"))
    assert pieces[3].text.endswith(" …")
    rewritten = word_diff("a " * 2000, "b " * 2000, limit=100)
    assert sum(len(piece.text) for piece in rewritten) <= 100 + 2


def test_the_first_changed_paragraph_is_the_one_compared():
    before = "Eerste alinea.\nTweede alinea.\nDerde alinea."
    after = "Eerste alinea.\nTweede alinea, herschreven.\nDerde alinea, ook."
    assert first_changed_paragraph(before, after) == (
        "Tweede alinea.",
        "Tweede alinea, herschreven.",
    )
    assert first_changed_paragraph(before, before + "\nVierde.") == ("", "Vierde.")
    assert first_changed_paragraph(before, before) is None
    assert text_diff(before, before) == ()


def test_downgrading_drops_only_edit_deliveries_and_upgrading_restores_the_schema(engine, receiver):
    config_ = config(receiver.base + "/hook", quiet_rule=False)
    article = add_article(engine, TITLE, TEXT)
    match_new_articles(engine, config_, now=T0)
    add_version(engine, article, 2, "edited", "text", text=EDITED_TEXT)
    match_new_articles(engine, config_, now=T0 + timedelta(hours=1))
    assert count_deliveries(engine) == 4
    command.downgrade(alembic_config(engine), "0013")
    assert count_deliveries(engine) == 2
    migrate(engine)
    assert differences(engine) == []
    assert count_deliveries(engine) == 2 and edit_deliveries(engine) == []


def test_a_match_still_goes_once_to_each_channel(engine, receiver):
    config_ = config(receiver.base + "/hook", quiet_rule=False)
    add_article(engine, TITLE, TEXT)
    match_new_articles(engine, config_, now=T0)
    with sessions(engine)() as session:
        first = session.scalars(select(AlertDelivery).where(AlertDelivery.channel == "ops")).one()
        again = {
            column.name: getattr(first, column.name)
            for column in AlertDelivery.__table__.columns
            if column.name != "id"
        }
    with pytest.raises(IntegrityError), sessions(engine)() as session, session.begin():
        session.execute(insert(AlertDelivery), [again])
