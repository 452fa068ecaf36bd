"""Alerts on stories: a growing story never alerts again; a digest shows it once, with its size."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from alerts.dispatch import dispatch_due
from alerts.engine import match_new_articles
from alerts.render import Rendered
from crawler import placement
from crawler.dedupe import content_hash
from crawler.sources import Source
from crawler.storage.engine import sessions
from crawler.storage.sources import sync_sources
from tests.alerts_fixtures import settings
from tests.test_storage_stories import GERMAN, WIRE, make

T0 = datetime(2026, 11, 10, 9, tzinfo=UTC)
RULES = {
    "alerts": {"backfill_hours": 1_000_000},
    "channels": {"desk": {"kind": "console"}},
    "rules": [
        {"name": "dgsn", "query": "DGSN", "channels": ["desk"]},
        {
            "name": "digest",
            "query": "DGSN",
            "channels": ["desk"],
            "delivery": "daily",
            "digest_hour": 8,
        },
    ],
}


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Rendered] = []

    def send(self, message: Rendered, now: datetime) -> str:
        self.messages.append(message)
        return "kept"


def store(engine, outlet: str, text: str, *, hours: float, language: str = "fr") -> int:
    when = T0 + timedelta(hours=hours)
    url = f"https://{outlet}.example/{content_hash(text)[:8]}"
    with sessions(engine)() as session:
        ids = sync_sources(session, [Source(outlet, "feed", (f"https://{outlet}.example/",))])
        article = replace(
            make(url, text, when=when, language=language, title=f"{outlet} headline"),
            source=outlet,
        )
        return placement.add_article(session, ids[outlet], article).story_id


def test_a_story_growing_in_outlets_and_languages_alerts_once(engine):
    config = settings(RULES)
    story = store(engine, "belga", "\n\n".join(WIRE), hours=0)
    first = match_new_articles(engine, config, now=T0)
    assert (first.articles, first.matches) == (1, 2)  # one per rule

    # a trimmed copy, then a German report of the same event: the story grows ...
    copy = "(Belga)\n\n" + "\n\n".join(WIRE[:-1])
    assert store(engine, "le-soir", copy, hours=1) == story
    assert store(engine, "tagesschau", GERMAN, hours=3, language="de") == story
    grown = match_new_articles(engine, config, now=T0 + timedelta(hours=4))
    # ... and every rule matched it again, but no rule alerts twice on one story
    assert (grown.articles, grown.matches, grown.deliveries) == (2, 0, 0)

    inbox = Inbox()
    due = T0 + timedelta(days=1)
    report = dispatch_due(engine, config, now=due, channels={"desk": inbox})
    assert report.sent == 2  # the instant alert and the digest
    digest = next(m for m in inbox.messages if m.payload["type"] == "digest")
    assert len(digest.payload["matches"]) == 1  # the story once
    assert digest.payload["matches"][0]["story"] == {
        "id": story,
        "articles": 3,
        "outlets": 3,
        "languages": ["de", "fr"],
    }
    assert "+2 outlets, 3 articles (de, fr)" in digest.text
    assert "+2 outlets" in digest.html
