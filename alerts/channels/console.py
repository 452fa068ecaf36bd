"""The console channel: alerts written to a stream and the log, for first runs without mail."""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

from alerts.channels.options import Option
from alerts.render import Rendered

if TYPE_CHECKING:  # alerts.config reads the channels' options: no import back at run time
    from alerts.config import Channel

log = logging.getLogger(__name__)


class ConsoleChannel:
    OPTIONS: tuple[Option, ...] = ()  # nothing to configure: `kind = "console"` only

    def __init__(self, channel: Channel, stream: TextIO | None = None) -> None:
        self.name = channel.name
        self.stream = stream

    def send(self, message: Rendered, now: datetime) -> str:
        stream = self.stream or sys.stdout
        stream.write(f"=== {message.subject}\n{message.text}\n")
        stream.flush()
        log.info("alert %s: %s", message.message_id, message.subject)
        return "written to the console"
