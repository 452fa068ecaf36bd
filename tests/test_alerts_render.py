"""Rendering: subject, text, HTML escaping and highlights, the versioned JSON payload, digests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from alerts.digest import period_end, period_start
from alerts.render import PAYLOAD_VERSION, AlertItem, AlertMessage, one_line, render
from alerts.snippets import Snippet

NOW = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)


def item(title: str, url: str = "https://hln.example/a", **kw) -> AlertItem:
    values = dict(
        match_id=1,
        story_id=7,
        article_id=3,
        url=url,
        title=title,
        source="hln",
        site_name="HLN",
        language="nl",
        published_at=NOW,
        matched_at=NOW,
        terms=('"mocro maffia"',),
        snippets=(Snippet("Over de Mocro-Maffia in Antwerpen.", ((8, 20),)).as_json(),),
        title_highlights=(),
    )
    values.update(kw)
    return AlertItem(**values)


def message(*items: AlertItem, period=None) -> AlertMessage:
    mode = "instant" if period is None else "daily"
    return AlertMessage(
        "msg_1", "mocro-maffia", '"Mocro-Maffia"', mode, items, period, "Europe/Brussels"
    )


def test_instant_alert_subject_text_and_highlights():
    rendered = render(message(item("De Mocro Maffia slaat toe", title_highlights=((3, 15),))))
    assert rendered.subject == "[newswatch] mocro-maffia: De Mocro Maffia slaat toe"
    assert "De *Mocro Maffia* slaat toe" in rendered.text
    assert "… Over de *Mocro-Maffia* in Antwerpen." in rendered.text
    assert "HLN · 2026-11-29 10:30 CET" in rendered.text  # [alerts] timezone, labelled
    assert "<mark>Mocro-Maffia</mark>" in rendered.html
    assert '<a href="https://hln.example/a">' in rendered.html


def test_untrusted_title_cannot_inject_markup_or_headers():
    evil = 'Nieuws <script>alert("x")</script>\r\nBcc: victim@example.org'
    rendered = render(message(item(evil, url="javascript:alert(1)")))
    assert "\r" not in rendered.subject and "\n" not in rendered.subject
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in rendered.html
    assert 'href="javascript' not in rendered.html


def test_one_line_strips_control_characters_and_bounds_length():
    assert one_line("a\r\nb\tc\x00d") == "a b c d"
    assert len(one_line("x" * 500)) == 180


def test_payload_is_versioned_and_stable():
    rendered = render(message(item("Titel")))
    body = json.loads(rendered.body)
    assert body["version"] == PAYLOAD_VERSION == 1
    assert body["type"] == "alert" and body["id"] == "msg_1" and body["period"] is None
    assert body["rule"] == {"name": "mocro-maffia", "query": '"Mocro-Maffia"'}
    [match] = body["matches"]
    assert match["story_id"] == 7 and match["terms"] == ['"mocro maffia"']
    assert match["article"]["url"] == "https://hln.example/a"
    assert match["snippets"] == [
        {"text": "Over de Mocro-Maffia in Antwerpen.", "highlights": [[8, 20]]}
    ]
    assert rendered.body == render(message(item("Titel"))).body


def test_digest_groups_matches_per_rule():
    end = datetime(2026, 11, 30, 7, tzinfo=UTC)
    period = (period_start(end, "daily", "Europe/Brussels"), end)
    rendered = render(message(item("Een", match_id=1), item("Twee", match_id=2), period=period))
    assert rendered.subject == (
        "[newswatch] mocro-maffia: 2 new articles until 2026-11-30 08:00 CET"
    )
    assert rendered.text.index("Een") < rendered.text.index("Twee")
    body = json.loads(rendered.body)
    assert body["type"] == "digest" and len(body["matches"]) == 2
    assert body["period"]["start"] == "2026-11-29T07:00:00+00:00"


def test_digest_periods_in_local_time():
    zone = "Europe/Brussels"  # UTC+1 in winter
    assert period_end(NOW, "daily", 8, zone) == datetime(2026, 11, 30, 7, tzinfo=UTC)
    assert period_end(NOW.replace(hour=6), "daily", 8, zone) == datetime(
        2026, 11, 29, 7, tzinfo=UTC
    )
    assert period_end(NOW, "hourly", 8, zone) == datetime(2026, 11, 29, 10, tzinfo=UTC)
    assert period_end(NOW, "instant", 8, zone) == NOW
    # the day DST ends is 25 hours long
    end = datetime(2026, 10, 25, 7, tzinfo=UTC)  # 08:00 CET, the morning DST ended
    assert end - period_start(end, "daily", zone) == timedelta(hours=25)
