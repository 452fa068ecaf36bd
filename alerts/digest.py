"""Digest periods: when the hourly or daily digest holding a match is due, in local time."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def period_end(moment: datetime, mode: str, hour: int, timezone: str) -> datetime:
    """The end of the digest period `moment` falls in (strictly after it), in UTC."""
    if mode == "instant":
        return moment
    local = moment.astimezone(ZoneInfo(timezone))
    if mode == "hourly":
        end = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        return end.astimezone(UTC)
    end = datetime.combine(local.date(), time(hour), tzinfo=local.tzinfo)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), time(hour), tzinfo=local.tzinfo)
    return end.astimezone(UTC)


def period_start(end: datetime, mode: str, timezone: str) -> datetime:
    """The start of the period ending at `end` (a local day back, so DST days are 23 or 25 h)."""
    if mode == "hourly":
        return end - timedelta(hours=1)
    local = end.astimezone(ZoneInfo(timezone))
    start = datetime.combine(local.date() - timedelta(days=1), local.timetz())
    return start.astimezone(UTC)
