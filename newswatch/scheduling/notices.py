"""Source health notices: rendered like alerts and sent to the configured admin channel.

Webhook payload::

    {"version": 1, "type": "source_health", "id": "<stable per change>", "source": ...,
     "state": "failing" | "degraded" | "quiet" | "ok", "previous": ..., "since": iso,
     "recovered": bool, "detail": ...}
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from html import escape

from alerts.dispatch import Sender
from alerts.errors import DeliveryError
from alerts.render import Rendered, one_line
from newswatch.scheduling.health import Notice

log = logging.getLogger(__name__)
_NOTICE_IDS = uuid.UUID("0b6c8a3e-51d4-4f7e-9a0c-5e2f7d9b1c44")


def render_notice(notice: Notice) -> Rendered:
    # The id is derived from the change itself: a notice re-sent after a crash keeps it,
    # so a receiver can drop the copy.
    key = f"{notice.source}|{notice.state}|{notice.since.isoformat()}"
    message_id = f"msg_{uuid.uuid5(_NOTICE_IDS, key).hex}"
    if notice.recovered:
        headline = f"source {notice.source} recovered (was {notice.previous})"
    else:
        headline = f"source {notice.source} is {notice.state}"
    text = f"{headline} since {notice.since:%Y-%m-%d %H:%M} UTC"
    if notice.detail:
        text += f": {notice.detail}"
    payload = {
        "version": 1,
        "type": "source_health",
        "id": message_id,
        "source": notice.source,
        "state": notice.state,
        "previous": notice.previous,
        "since": notice.since.isoformat(),
        "recovered": notice.recovered,
        "detail": notice.detail,
    }
    html = f"<!doctype html><html><body><p>{escape(text)}</p></body></html>"
    return Rendered(message_id, one_line(f"[newswatch] {headline}"), text + "\n", html, payload)


def announce(notice: Notice, channel: Sender | None, now: datetime) -> bool:
    """Log the change, send it to the admin channel if one is set; True once it is delivered."""
    rendered = render_notice(notice)
    level = logging.INFO if notice.recovered else logging.WARNING
    log.log(level, "%s", rendered.text.strip())
    if channel is None:
        return True
    try:
        channel.send(rendered, now)
    except DeliveryError as error:
        # Not marked announced: the next assessment of this source tries again.
        log.warning("health notice for %s not delivered: %s", notice.source, error)
        return False
    return True
