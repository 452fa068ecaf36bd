"""Delivery channels, one module each, and the one registry that maps a kind to its class.

A channel is built from its `alerts.config.Channel` and has `send(rendered, now) -> str`,
which returns a short note on success and raises `alerts.errors.DeliveryError` otherwise.
"""

from __future__ import annotations

from alerts.channels.console import ConsoleChannel
from alerts.channels.email import EmailChannel
from alerts.channels.webhook import WebhookChannel

CHANNELS = {"console": ConsoleChannel, "email": EmailChannel, "webhook": WebhookChannel}
