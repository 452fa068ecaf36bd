"""Alert rules and channels from the parsed configuration, validated once into frozen values.

The TOML shape (every key optional unless marked)::

    [alerts]
    timezone = "Europe/Brussels"  # digests are cut at local hours
    digest_hour = 8               # daily digests at 08:00; "hourly" makes `digest` hourly
    default_operator = "AND"      # between words with no operator: AND (default) or OR
    backfill_hours = 24           # the first run also matches articles this recent
    retry_base = 30               # seconds before the first retry; doubles each time
    retry_max = 7200              # the longest wait between two attempts
    retry_horizon = 172800        # give up (dead letter) this many seconds after queueing
    claim_lease = "10m"           # how long a dispatcher owns the deliveries it claimed; if
                                  # it dies, another sends them (same message id) after that,
                                  # or at once from a process on the same host

    [channels.NAME]               # "console" exists even when not configured
    kind = "console" | "email" | "webhook"              # required
    # email:   host (required), port (587/465/25 by security), security = "starttls" |
    #          "tls" | "none", username_env, password_env, sender (required),
    #          recipients (required list), timeout (seconds, 30)
    # webhook: url (required, http/https), secret_env (required; Standard Webhooks
    #          signing secret, "whsec_<base64>" or plain text, checked when loaded),
    #          timeout (seconds, 15)

    [[rules]]
    name = "mocro-maffia"                     # required, unique
    query = '"Mocro-Maffia" OR Mocromaffia'   # required, see alerts.query
    channels = ["console"]                    # default ["console"]
    delivery = "instant"                      # instant | hourly | daily | digest
    digest_hour = 7                           # overrides [alerts] digest_hour for daily
    languages = []  sources = []  tags = []   # restrictions; empty = any
    enabled = true

Secrets are never written in the file: a `*_env` key names the environment variable
holding the value.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from alerts.query import Query, QueryError, parse_query
from alerts.redact import redact_urls
from alerts.signing import signing_key

CHANNEL_KINDS = ("console", "email", "webhook")
DELIVERY_MODES = ("instant", "hourly", "daily")
ALERTS_KEYS = (
    "timezone", "digest_hour", "default_operator", "backfill_hours", "retry_base", "retry_max",
    "retry_horizon", "claim_lease",
)  # fmt: skip
RULE_KEYS = (
    "name", "query", "channels", "delivery", "digest_hour", "languages", "sources", "tags",
    "enabled",
)  # fmt: skip
CHANNEL_KEYS = {
    "console": ("kind",),
    "email": (
        "kind", "host", "port", "security", "username_env", "password_env", "sender",
        "recipients", "timeout",
    ),
    "webhook": ("kind", "url", "secret_env", "timeout"),
}  # fmt: skip
SMTP_PORTS = {"starttls": 587, "tls": 465, "none": 25}
DEFAULT_CLAIM_LEASE = 600.0  # seconds: ten minutes outlast any sane batch of sends
# The duration grammar of newswatch.config_reader (alerts may not import newswatch).
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$", re.I)
_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
Problems = list[tuple[str, str]]


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 30.0
    max_seconds: float = 2 * 3600.0
    horizon_seconds: float = 2 * 86400.0


@dataclass(frozen=True)
class Channel:
    """A configured destination; `secrets` holds values read from the environment."""

    name: str
    kind: str
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    secrets: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), repr=False)


@dataclass(frozen=True)
class Rule:
    name: str
    query: Query
    channels: tuple[str, ...] = ("console",)
    delivery: str = "instant"  # one of DELIVERY_MODES
    digest_hour: int = 8  # local hour of the daily digest
    languages: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlertSettings:
    rules: tuple[Rule, ...] = ()
    channels: Mapping[str, Channel] = field(
        default_factory=lambda: MappingProxyType({"console": Channel("console", "console")})
    )
    timezone: str = "UTC"
    digest_hour: int | None = 8  # None: `digest` rules are hourly
    default_operator: str = "AND"
    backfill_hours: float = 24.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # How long a dispatcher owns the deliveries it claimed; past it, another may send them.
    claim_lease_seconds: float = DEFAULT_CLAIM_LEASE

    def rule(self, name: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.name == name), None)


class _Reader:
    """Typed reads of one table that record problems instead of raising."""

    def __init__(self, table: Any, path: str, problems: Problems) -> None:
        self.path, self.problems = path, problems
        if not isinstance(table, dict):
            problems.append((path, f"must be a table, not {type(table).__name__}"))
            table = {}
        self.table = table

    def problem(self, key: str, message: str) -> None:
        self.problems.append((f"{self.path}.{key}", message))

    def only(self, keys: tuple[str, ...]) -> None:
        for key in self.table:
            if key not in keys:
                self.problem(key, f"unknown key (known: {', '.join(keys)})")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        value = self.table.get(key, default)
        if value is default:
            return default
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            self.problem(key, f"has the wrong type ({type(value).__name__})")
            return default
        return value

    def text(self, key: str, default: str | None = None, required: bool = False) -> str | None:
        value = self.get(key, str, None)
        if value is None and required and key not in self.table:
            self.problem(key, "is required")
        return value.strip() if isinstance(value, str) and value.strip() else default

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.get(key, list, [])
        if not all(isinstance(item, str) and item.strip() for item in value):
            self.problem(key, "must be a list of non-empty strings")
            return ()
        return tuple(item.strip() for item in value)

    def number(self, key: str, default: float, minimum: float = 0) -> float:
        value = self.get(key, (int, float), default)
        if value < minimum:
            self.problem(key, f"must be at least {minimum}")
            return default
        return value

    def duration(self, key: str, default: float) -> float:
        """Seconds above zero, from a number of seconds or a string like "30s", "10m", "2h"."""
        value = self.table.get(key, default)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
        match = _DURATION.match(value) if isinstance(value, str) else None
        if not match or float(match[1]) <= 0:
            self.problem(key, f'must be a duration above zero, like "30s" or "10m" (got {value!r})')
            return default
        return float(match[1]) * _SECONDS[(match[2] or "s").lower()]

    def secret(self, key: str, env: Mapping[str, str], required: bool) -> str | None:
        name = self.text(key, required=required)
        if name is None:
            return None
        value = env.get(name)
        if not value:
            self.problem(key, f"environment variable {name} is not set")
        return value or None


def parse_alert_settings(document: dict, env: Mapping[str, str]) -> tuple[AlertSettings, Problems]:
    """Read [alerts], [channels.*] and [[rules]] of the whole parsed document; never raises."""
    problems: Problems = []
    top = _Reader(document.get("alerts", {}), "alerts", problems)
    top.only(ALERTS_KEYS)
    timezone = top.text("timezone", "UTC") or "UTC"
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        top.problem("timezone", f"unknown time zone {timezone!r} (e.g. Europe/Brussels)")
        timezone = "UTC"
    digest_hour = _hour(top, "digest_hour", 8, allow_hourly=True)
    operator = (top.text("default_operator", "AND") or "AND").upper()
    if operator not in ("AND", "OR"):
        top.problem("default_operator", "must be AND or OR")
        operator = "AND"
    defaults = RetryPolicy()
    retry = RetryPolicy(
        top.number("retry_base", defaults.base_seconds, minimum=1),
        top.number("retry_max", defaults.max_seconds, minimum=1),
        top.number("retry_horizon", defaults.horizon_seconds, minimum=0),
    )
    channels = _channels(document.get("channels", {}), env, problems)
    rules = _rules(document.get("rules", []), channels, digest_hour, operator, problems)
    settings = AlertSettings(
        rules=rules,
        channels=MappingProxyType(channels),
        timezone=timezone,
        digest_hour=digest_hour,
        default_operator=operator,
        backfill_hours=top.number("backfill_hours", 24.0),
        retry=retry,
        claim_lease_seconds=top.duration("claim_lease", DEFAULT_CLAIM_LEASE),
    )
    return settings, problems


def _hour(reader: _Reader, key: str, default: int | None, allow_hourly: bool) -> int | None:
    value = reader.table.get(key, default)
    if allow_hourly and value == "hourly":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 23:
        hint = ' or "hourly"' if allow_hourly else ""
        reader.problem(key, f"must be an hour from 0 to 23{hint} (got {value!r})")
        return default
    return value


def _channels(tables: Any, env: Mapping[str, str], problems: Problems) -> dict[str, Channel]:
    found = {"console": Channel("console", "console")}
    if not isinstance(tables, dict):
        problems.append(("channels", "must be a table of channels"))
        return found
    for name, table in tables.items():
        reader = _Reader(table, f"channels.{name}", problems)
        kind = reader.text("kind", required=True)
        if kind is None:
            continue
        if kind not in CHANNEL_KINDS:
            reader.problem("kind", f"must be one of {', '.join(CHANNEL_KINDS)} (got {kind!r})")
            continue
        reader.only(CHANNEL_KEYS[kind])
        options, secrets = {}, {}
        if kind == "email":
            security = reader.text("security", "starttls")
            if security not in SMTP_PORTS:
                reader.problem("security", "must be starttls, tls or none")
                security = "starttls"
            options = {
                "host": reader.text("host", required=True),
                "port": int(reader.number("port", SMTP_PORTS[security], minimum=1)),
                "security": security,
                "sender": reader.text("sender", required=True),
                "recipients": reader.strings("recipients"),
                "timeout": reader.number("timeout", 30.0, minimum=1),
            }
            if not options["recipients"] and "recipients" not in reader.table:
                reader.problem("recipients", "is required (a list of addresses)")
            addresses = [("sender", options["sender"] or "x@x")]
            addresses += [("recipients", address) for address in options["recipients"]]
            for key, address in addresses:
                if "@" not in address or any(c in address for c in "\r\n"):
                    reader.problem(key, f"{address!r} is not an email address")
            for key in ("username", "password"):
                if value := reader.secret(f"{key}_env", env, required=False):
                    secrets[key] = value
        elif kind == "webhook":
            url = reader.text("url", required=True) or ""
            parts = urlsplit(url)
            if url and (parts.scheme not in ("http", "https") or not parts.hostname):
                shown = redact_urls(url) if "://" in url else "no scheme"
                reader.problem("url", f"must be an http(s) address (got {shown})")
            options = {"url": url, "timeout": reader.number("timeout", 15.0, minimum=1)}
            if value := reader.secret("secret_env", env, required=True):
                try:
                    signing_key(value)  # a bad secret would fail every send, for good
                    secrets["secret"] = value
                except ValueError as error:
                    variable = reader.table["secret_env"].strip()
                    reader.problem("secret_env", f"environment variable {variable} does not "
                                   f"hold a usable signing secret: {error}")  # fmt: skip
        found[name] = Channel(name, kind, MappingProxyType(options), MappingProxyType(secrets))
    return found


def _rules(
    tables: Any,
    channels: Mapping[str, Channel],
    digest_hour: int | None,
    operator: str,
    problems: Problems,
) -> tuple[Rule, ...]:
    if not isinstance(tables, list):
        problems.append(("rules", "must be an array of tables ([[rules]])"))
        return ()
    rules: list[Rule] = []
    for index, table in enumerate(tables):
        reader = _Reader(table, f"rules[{index}]", problems)
        reader.only(RULE_KEYS)
        name = reader.text("name", required=True) or f"#{index}"
        if any(rule.name == name for rule in rules):
            reader.problem("name", f"the rule name {name!r} is used twice")
        text = reader.text("query", required=True)
        query = None
        if text is not None:
            try:
                query = parse_query(text, operator)
            except QueryError as error:
                reader.problem("query", f"rule {name!r}: {error}")
        chosen = reader.strings("channels") if "channels" in reader.table else ("console",)
        if not chosen:
            reader.problem("channels", f"rule {name!r} has no channel")
        for channel in chosen:
            if channel not in channels:
                known = ", ".join(sorted(channels))
                reader.problem("channels", f"no channel named {channel!r} (known: {known})")
        delivery = reader.text("delivery", "instant")
        if delivery == "digest":
            delivery = "hourly" if digest_hour is None else "daily"
        if delivery not in DELIVERY_MODES:
            reader.problem("delivery", "must be instant, hourly, daily or digest")
            delivery = "instant"
        hour = _hour(reader, "digest_hour", digest_hour if digest_hour is not None else 8, False)
        if query is None or not reader.get("enabled", bool, True):
            continue
        rules.append(
            Rule(
                name,
                query,
                chosen,
                delivery,
                hour if hour is not None else 8,
                reader.strings("languages"),
                reader.strings("sources"),
                reader.strings("tags"),
            )
        )
    return tuple(rules)
