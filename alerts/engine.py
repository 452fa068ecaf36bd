"""New articles since the watermark → matches and pending deliveries, in one transaction.

Each batch is one transaction: the engine takes its lock (the state row), reads the
articles after the watermark plus the remembered gaps, matches them, inserts one match per
rule and story (a unique constraint; a story seen again is skipped) with one pending
delivery per channel, and moves the watermark. A crash anywhere rolls the whole batch back,
so the next run does it again: nothing is lost and nothing is queued twice.

Edits go the same way after the new articles: under the same lock, each later version of
an article a rule with `on_edit` matched (crawler.storage.edits) gets one pending delivery
per channel of that rule, in the transaction that moves the versions watermark; a unique
constraint per version, match and channel makes a second pass queue nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from alerts.config import AlertSettings, Rule
from alerts.digest import period_end
from alerts.matching import ArticleText, Hit, Matcher, RuleSpec, prepare
from alerts.snippets import highlights, snippets
from crawler.storage import edits, matches
from crawler.storage.engine import sessions
from crawler.storage.matches import ArticleRow

log = logging.getLogger(__name__)
# How long an id skipped by the watermark is looked for again (a transaction still open).
GAP_TTL = timedelta(hours=1)


@dataclass(frozen=True)
class MatchReport:
    articles: int = 0
    matches: int = 0
    deliveries: int = 0
    edits: int = 0  # deliveries queued for edits of matched articles


def compile_rules(settings: AlertSettings) -> Matcher:
    """The matcher for every enabled rule; build it once and reuse it between runs."""
    return Matcher(
        [RuleSpec(r.name, r.query, r.languages, r.sources, r.tags) for r in settings.rules]
    )


def article_text(row: ArticleRow) -> ArticleText:
    body = row.text if not row.lead or row.lead in row.text else f"{row.lead}\n{row.text}"
    return ArticleText(row.title or "", body, row.language, row.source, row.tags)


def match_values(rule: Rule, row: ArticleRow, hit: Hit, now: datetime) -> dict:
    """A match row: why it matched, and the snippets and highlights delivery will show."""
    found = [found.term for found in hit.terms]
    body = article_text(row).body
    return {
        "rule": rule.name,
        "story_id": row.story_id,
        "article_id": row.id,
        "query": rule.query.text,
        "terms": [term.label for term in found],
        "snippets": [snippet.as_json() for snippet in snippets(body, found)],
        "title_highlights": [list(span) for span in highlights(row.title or "", found)],
        "matched_at": now,
    }


def delivery_rows(
    settings: AlertSettings,
    rule: Rule,
    match_id: int,
    now: datetime,
    version_id: int | None = None,
) -> list[dict]:
    """One pending delivery per channel of the rule: of the match, or of an edit of it."""
    due = period_end(now, rule.delivery, rule.digest_hour, settings.timezone)
    return [
        {
            "match_id": match_id,
            "version_id": version_id,
            "rule": rule.name,
            "channel": channel,
            "mode": rule.delivery,
            "state": "pending",
            "due_at": due,
            "next_attempt_at": due,
            "attempts": 0,
            "message_id": f"msg_{uuid.uuid4().hex}",
            "created_at": now,
            "queued_at": now,
        }
        for channel in rule.channels
    ]


def match_new_articles(
    engine: Engine,
    settings: AlertSettings,
    *,
    now: datetime | None = None,
    matcher: Matcher | None = None,
    batch_size: int = 200,
    after_batch: Callable[[MatchReport], None] | None = None,
) -> MatchReport:
    """Match every article stored since the last run; returns what was found and queued."""
    now = now or datetime.now(UTC)
    matcher = matcher or compile_rules(settings)
    rules = {rule.name: rule for rule in settings.rules}
    backfill_since = now - timedelta(hours=settings.backfill_hours)
    total = MatchReport()
    make_session = sessions(engine)
    while True:
        with make_session() as session, session.begin():
            mark = matches.lock_watermark(session, now, backfill_since)
            fresh = matches.articles_after(session, mark.last_article_id, batch_size)
            rows = matches.articles_by_id(session, mark.gaps) + fresh
            found = delivered = 0
            for row in rows:
                for hit in matcher.match(prepare(article_text(row))):
                    rule = rules[hit.rule]
                    match_id = matches.insert_match(session, match_values(rule, row, hit, now))
                    if match_id is None:
                        continue  # this rule already alerted on this story
                    queued = delivery_rows(settings, rule, match_id, now)
                    matches.insert_deliveries(session, queued)
                    found, delivered = found + 1, delivered + len(queued)
            new_last = max([mark.last_article_id] + [row.id for row in fresh])
            seen = {row.id for row in rows}
            matches.advance_watermark(session, mark, new_last, seen, now, GAP_TTL)
        batch = MatchReport(len(rows), found, delivered)
        total = MatchReport(
            total.articles + batch.articles,
            total.matches + batch.matches,
            total.deliveries + batch.deliveries,
        )
        if after_batch:
            after_batch(batch)
        if len(fresh) < batch_size:
            break
    queued = queue_edit_alerts(engine, settings, now=now, batch_size=batch_size)
    total = MatchReport(total.articles, total.matches, total.deliveries, queued)
    # The service runs this every minute: a round with nothing new is not worth a line.
    log.log(
        logging.INFO if total.articles or total.edits else logging.DEBUG,
        "alerts: matched %d articles against %d rules: %d new matches, %d deliveries queued"
        ", %d for edits",
        total.articles,
        len(settings.rules),
        total.matches,
        total.deliveries,
        total.edits,
    )
    return total


def queue_edit_alerts(
    engine: Engine, settings: AlertSettings, *, now: datetime, batch_size: int = 200
) -> int:
    """Queue one delivery per channel for each new version of an article an `on_edit` rule
    matched; returns how many were queued.

    The versions watermark moves even when no rule watches edits, so that turning
    `on_edit` on later alerts on edits from then on, not on the whole history.
    """
    watching = {rule.name: rule for rule in settings.rules if rule.on_edit}
    backfill_since = now - timedelta(hours=settings.backfill_hours)
    make_session = sessions(engine)
    queued = 0
    while True:
        with make_session() as session, session.begin():
            matches.lock_watermark(session, now, backfill_since)
            last = edits.version_watermark(session, backfill_since)
            fresh = edits.version_ids_after(session, last, batch_size)
            new_last = max([last, *fresh])
            for found in edits.edits_to_alert(session, watching, last, new_last, now - GAP_TTL):
                rule = watching[found.rule]
                rows = delivery_rows(settings, rule, found.match_id, now, found.version_id)
                queued += edits.insert_edit_deliveries(session, rows)
            edits.advance_version_watermark(session, new_last)
        if len(fresh) < batch_size:
            return queued
