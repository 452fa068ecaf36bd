"""The console channel: alerts written to a stream and the log, for first runs without mail."""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from typing import TextIO

from alerts.config import Channel
from alerts.render import Rendered

log = logging.getLogger(__name__)


class ConsoleChannel:
    def __init__(self, channel: Channel, stream: TextIO | None = None) -> None:
        self.name = channel.name
        self.stream = stream

    def send(self, message: Rendered, now: datetime) -> str:
        stream = self.stream or sys.stdout
        stream.write(f"=== {message.subject}\n{message.text}\n")
        stream.flush()
        log.info("alert %s: %s", message.message_id, message.subject)
        return "written to the console"
