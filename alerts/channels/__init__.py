"""Delivery channels, one module each, and the one registry that maps a kind to its class.

A channel is built from its `alerts.config.Channel` and has `send(rendered, now) -> str`,
which returns a short note on success and raises `alerts.errors.DeliveryError` otherwise.
Its class declares the options of its `[channels.NAME]` table as `OPTIONS`
(`alerts.channels.options`); alerts.config reads every channel against them.
"""

from __future__ import annotations

from alerts.channels.apprise import AppriseChannel
from alerts.channels.console import ConsoleChannel
from alerts.channels.email import EmailChannel
from alerts.channels.webhook import WebhookChannel

CHANNELS = {
    "console": ConsoleChannel,
    "email": EmailChannel,
    "webhook": WebhookChannel,
    "apprise": AppriseChannel,
}
