"""Send due deliveries: claim, render, send, and move each through its retry state machine.

pending ──send ok──► sent
   │  └──transient error──► pending again at now + backoff (exponential, jittered, at least
   │                        the server's Retry-After) ──past the horizon──► dead
   └──permanent error──► dead          dead ──`newswatch alerts retry`──► pending

A delivery is marked sent only after the channel accepted it. Claims are leases: if a
dispatcher dies mid-send, its claim runs out and another sends again with the same message
id (webhook-id, Message-ID), so receivers can drop the copy. The lease is [alerts]
claim_lease; a dispatcher whose lease runs out mid-round stops sending, since another may
have claimed the rest by then. Each round first takes back the claims of processes on this
host that died (alerts.claims), so a restarted service resends at once rather than after
the lease. Instant deliveries are sent one by one; digest deliveries of one rule, channel
and period go out as one message.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol, TextIO

from sqlalchemy import Engine

from alerts import claims
from alerts.channels import CHANNELS
from alerts.channels.console import ConsoleChannel
from alerts.config import AlertSettings, RetryPolicy
from alerts.digest import period_start
from alerts.errors import DeliveryError, PermanentError
from alerts.render import AlertMessage, Rendered, render
from crawler.storage import deliveries, edits
from crawler.storage.deliveries import AlertItem, DeliveryRow
from crawler.storage.edits import ArticleEdit
from crawler.storage.engine import sessions

log = logging.getLogger(__name__)
CLAIM_BATCH = 500  # deliveries claimed at once by one round
_DIGEST_IDS = uuid.UUID("6f1c2a52-4d0e-4a8e-9a57-2b1f0f7c9e11")


class Sender(Protocol):
    def send(self, message: Rendered, now: datetime) -> str: ...


@dataclass(frozen=True)
class DispatchReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0


def build_channels(settings: AlertSettings, console: TextIO | None = None) -> dict[str, Sender]:
    """One sender per configured channel, through the registry."""
    built: dict[str, Sender] = {}
    for name, channel in settings.channels.items():
        if channel.kind == "console":
            built[name] = ConsoleChannel(channel, console)
        else:
            built[name] = CHANNELS[channel.kind](channel)
    return built


def backoff(
    attempt: int, policy: RetryPolicy, rng: random.Random, retry_after: float | None
) -> float:
    """Seconds before attempt `attempt + 1`: base·2^(attempt-1) capped, half of it jittered."""
    delay = min(policy.max_seconds, policy.base_seconds * 2 ** (attempt - 1))
    delay = delay / 2 + rng.uniform(0, delay / 2)
    return max(delay, retry_after or 0.0)


def dispatch_due(
    engine: Engine,
    settings: AlertSettings,
    *,
    now: datetime | None = None,
    channels: Mapping[str, Sender] | None = None,
    rng: random.Random | None = None,
    limit: int = CLAIM_BATCH,
) -> DispatchReport:
    """Send every delivery due at `now`; returns how many messages were sent, retried, dropped."""
    now = now or datetime.now(UTC)
    channels = build_channels(settings) if channels is None else channels
    rng = rng or random.Random()
    make_session = sessions(engine)
    lease = settings.claim_lease_seconds
    # On the monotonic clock from just before the claim: when `now` is read here, this ends
    # no later than the lease written to the rows (an injected `now` does not move it).
    lease_ends = time.monotonic() + lease
    owner = claims.this_process()
    with make_session() as session, session.begin():
        claims.release_dead(session, now, owner)
        claimed = deliveries.claim_due(
            session, now, now + timedelta(seconds=lease), limit, str(owner)
        )
    counts = {"sent": 0, "retry": 0, "dead": 0}
    groups = _groups(claimed)
    for index, group in enumerate(groups):
        if time.monotonic() >= lease_ends:
            # Another dispatcher may own the rest now; sending them too would send them twice.
            log.warning(
                "alerts: the claim lease (%gs) ran out with %d message(s) unsent; "
                "a later round sends them",
                lease,
                len(groups) - index,
            )
            break
        with make_session() as session:
            found = deliveries.matches(session, [row.match_id for row in group])
            changes = edits.changes(session, [row.version_id for row in group if row.version_id])
        outcome, retry_at, detail = _deliver(group, found, changes, settings, channels, rng, now)
        with make_session() as session, session.begin():
            ids = [row.id for row in group]
            deliveries.record_attempt(session, ids, now, outcome, detail, retry_at)
        counts[outcome] += 1
        log.log(
            logging.INFO if outcome == "sent" else logging.WARNING,
            "alerts: rule %s to %s, %d match(es): %s (%s)%s",
            group[0].rule,
            group[0].channel,
            len(group),
            outcome,
            detail,
            f", next attempt at {retry_at:%Y-%m-%d %H:%M:%S}" if retry_at else "",
        )
    return DispatchReport(counts["sent"], counts["retry"], counts["dead"])


def _groups(claimed: list[DeliveryRow]) -> list[list[DeliveryRow]]:
    groups: dict[tuple, list[DeliveryRow]] = {}
    for row in claimed:
        key = (row.id,) if row.mode == "instant" else (row.rule, row.channel, row.due_at)
        groups.setdefault(key, []).append(row)
    return list(groups.values())


def message_for(
    group: list[DeliveryRow],
    found: Mapping[int, AlertItem],
    settings: AlertSettings,
    changes: Mapping[int, ArticleEdit] | None = None,
) -> AlertMessage:
    """The message for a group of deliveries: each story once, with its size at send time,
    and each edit of a matched article once (`changes`: the versions by id)."""
    first = group[0]
    items, stories_seen = [], set()
    for row in group:
        item = found.get(row.match_id)
        if item is not None and row.version_id is not None:
            edit = (changes or {}).get(row.version_id)
            item = replace(item, edit=edit) if edit is not None else None
        key = (item.story_id, row.version_id) if item is not None else None
        if key is not None and key not in stories_seen:
            stories_seen.add(key)
            items.append(item)
    query = found[first.match_id].query if first.match_id in found else ""
    if first.mode == "instant":
        return AlertMessage(
            first.message_id, first.rule, query, "instant", tuple(items), None, settings.timezone
        )
    digest_id = uuid.uuid5(_DIGEST_IDS, _digest_key(group))
    period = (period_start(first.due_at, first.mode, settings.timezone), first.due_at)
    return AlertMessage(
        f"msg_{digest_id.hex}",
        first.rule,
        query,
        first.mode,
        tuple(items),
        period,
        settings.timezone,
    )


def _digest_key(group: list[DeliveryRow]) -> str:
    """What names a digest message: its period and its deliveries, the same on every retry.

    The deliveries count too because a digest can go out in parts (a claim stops at its
    limit, or another dispatcher claimed some rows first): each part is another message,
    and one id for all would make a receiver that de-duplicates on it drop all but one.
    """
    first = group[0]
    ids = ",".join(str(row.id) for row in sorted(group, key=lambda row: row.id))
    return f"{first.rule}|{first.channel}|{first.due_at.isoformat()}|{ids}"


def _deliver(
    group: list[DeliveryRow],
    found: Mapping[int, AlertItem],
    changes: Mapping[int, ArticleEdit],
    settings: AlertSettings,
    channels: Mapping[str, Sender],
    rng: random.Random,
    now: datetime,
) -> tuple[str, datetime | None, str]:
    """Try once: the outcome (sent, retry or dead), when to retry, and a note on it.

    Whatever failed, nothing is tried again past the retry horizon: a bug in rendering or
    a channel is retried (a fixed release may send it) but gives up there like the rest.
    """
    first = group[0]
    retry_after = None
    try:
        message = message_for(group, found, settings, changes)
        sender = channels.get(first.channel)
        if sender is None:
            raise PermanentError(f"no channel named {first.channel!r} is configured")
        return "sent", None, sender.send(render(message), now)
    except DeliveryError as error:
        if not error.transient:
            return "dead", None, str(error)
        detail, retry_after = str(error), error.retry_after
    except Exception as error:  # a bug in rendering or a channel: keep it, retry later
        log.exception("alerts: delivery to %s failed unexpectedly", first.channel)
        detail = f"unexpected {type(error).__name__}: {error}"
    attempt = max(row.attempts for row in group) + 1
    retry_at = now + timedelta(seconds=backoff(attempt, settings.retry, rng, retry_after))
    queued = min(row.queued_at for row in group)
    if retry_at > queued + timedelta(seconds=settings.retry.horizon_seconds):
        return "dead", None, f"gave up after {attempt} attempts: {detail}"
    return "retry", retry_at, detail
