"""Alert rules and channels from the parsed configuration, validated once into frozen values.

The TOML shape (every key optional unless marked)::

    [alerts]
    timezone = "Europe/Brussels"  # digests are cut at local hours
    digest_hour = 8               # daily digests at 08:00; "hourly" makes `digest` hourly
    default_operator = "AND"      # between words with no operator: AND (default) or OR
    backfill_hours = 24           # the first run also matches articles this recent
    retry_base = "30s"            # before the first retry; doubles each time
    retry_max = "2h"              # the longest wait between two attempts
    retry_horizon = "2d"          # give up (dead letter) this long after queueing; 0:
                                  # at the first failure
    claim_lease = "10m"           # how long a dispatcher owns the deliveries it claimed; if
                                  # it dies, another sends them (same message id) after that,
                                  # or at once from a process on the same host

    [channels.NAME]               # "console" exists even when not configured
    kind = "console" | "email" | "webhook" | "apprise"  # required
    # console: no other key
    # email:   host (required), security = "starttls" (default) | "tls" | "none",
    #          port (1-65535; 587, 465 or 25 by security), username_env, password_env,
    #          sender (required address), recipients (required, a non-empty list of
    #          addresses), timeout (a duration, "30s")
    # webhook: url (required, http/https), secret_env (required; Standard Webhooks
    #          signing secret, "whsec_<base64>" or plain text, checked when loaded),
    #          timeout (a duration, "15s")
    # apprise: urls_env (required; the environment variable holding one or more Apprise
    #          URLs, e.g. "ntfy://ntfy.example.org/desk tgram://TOKEN/CHAT", checked when
    #          loaded), timeout (a duration, "30s")

    [[rules]]
    name = "mocro-maffia"                     # required, unique
    query = '"Mocro-Maffia" OR Mocromaffia'   # required, see alerts.query
    channels = ["console"]                    # default ["console"]
    delivery = "instant"                      # instant | hourly | daily | digest
    digest_hour = 7                           # overrides [alerts] digest_hour for daily
    languages = []  sources = []  tags = []   # restrictions; empty = any
    on_edit = false                           # also alert when a matched article is
                                              # edited, removed or redirected elsewhere
    enabled = true

Durations are written as everywhere in the configuration (crawler.config_reader): a
number of seconds or a string in s, m, h or d, above zero (retry_horizon may be 0) and
at most 366 days. Each channel kind declares its options in its module (`OPTIONS`, see
alerts.channels.options); this docstring lists them for the reader of the file. Secrets
are never written in the file: a `*_env` key names the environment variable holding the
value.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from alerts.channels import CHANNELS
from alerts.channels.options import read_options
from alerts.query import Query, QueryError, parse_query
from crawler.config_reader import Problem, TableReader

CHANNEL_KINDS = tuple(CHANNELS)
DELIVERY_MODES = ("instant", "hourly", "daily")
OPERATORS = ("AND", "OR")
ALERTS_KEYS = (
    "timezone",
    "digest_hour",
    "default_operator",
    "backfill_hours",
    "retry_base",
    "retry_max",
    "retry_horizon",
    "claim_lease",
)
RULE_KEYS = (
    "name",
    "query",
    "channels",
    "delivery",
    "digest_hour",
    "languages",
    "sources",
    "tags",
    "on_edit",
    "enabled",
)
DEFAULT_CLAIM_LEASE = 600.0  # seconds: ten minutes outlast any sane batch of sends


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
    on_edit: bool = False  # alert on each later version of an article this rule matched


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


def parse_alert_settings(
    document: dict, env: Mapping[str, str]
) -> tuple[AlertSettings, list[Problem]]:
    """Read [alerts], [channels.*] and [[rules]] of the whole parsed document; never raises.

    Each problem names its key ("channels.desk-mail.port") and what is wrong, in the
    wording of the rest of the configuration (crawler.config_reader).
    """
    problems: list[Problem] = []
    document_reader = TableReader(document, "", problems)
    top = document_reader.subtable("alerts")
    top.only(ALERTS_KEYS)
    timezone = top.text("timezone", "UTC")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        top.problem("timezone", f"unknown time zone {timezone!r} (e.g. Europe/Brussels)")
        timezone = "UTC"
    digest_hour = _hour(top, "digest_hour", 8, allow_hourly=True)
    operator = top.text("default_operator", "AND")
    if operator.upper() not in OPERATORS:
        top.problem("default_operator", f"must be one of AND, OR (got {operator!r})")
        operator = "AND"
    operator = operator.upper()
    defaults = RetryPolicy()
    retry = RetryPolicy(
        top.duration("retry_base", defaults.base_seconds),
        top.duration("retry_max", defaults.max_seconds),
        top.duration("retry_horizon", defaults.horizon_seconds, zero=True),
    )
    backfill_hours = top.number("backfill_hours", AlertSettings.backfill_hours)
    claim_lease = top.duration("claim_lease", DEFAULT_CLAIM_LEASE)
    channels = _channels(document_reader.subtable("channels"), env)
    rules = _rules(document_reader, channels, digest_hour, operator)
    settings = AlertSettings(
        rules=rules,
        channels=MappingProxyType(channels),
        timezone=timezone,
        digest_hour=digest_hour,
        default_operator=operator,
        backfill_hours=backfill_hours,
        retry=retry,
        claim_lease_seconds=claim_lease,
    )
    return settings, problems


def _hour(reader: TableReader, key: str, default: int | None, allow_hourly: bool) -> int | None:
    value = reader.values.get(key, default)
    if allow_hourly and value == "hourly":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 23:
        hint = ' or "hourly"' if allow_hourly else ""
        reader.problem(key, f"must be an hour from 0 to 23{hint} (got {value!r})")
        return default
    return value


def _channels(tables: TableReader, env: Mapping[str, str]) -> dict[str, Channel]:
    """Each [channels.NAME] read against the options its kind declares (alerts.channels)."""
    found = {"console": Channel("console", "console")}
    for name, table in tables.values.items():
        reader = tables.subtable(name)
        if not isinstance(table, dict):
            continue  # the reader said so: no key of it can be read
        kind = reader.choice("kind", CHANNEL_KINDS, required=True)
        if kind is None:
            continue
        options, secrets = read_options(reader, CHANNELS[kind].OPTIONS, env)
        found[name] = Channel(name, kind, MappingProxyType(options), MappingProxyType(secrets))
    return found


def _rules(
    document: TableReader,
    channels: Mapping[str, Channel],
    digest_hour: int | None,
    operator: str,
) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    names: set[str] = set()
    for reader in document.tables("rules"):
        rule = _rule(reader, channels, digest_hour, operator)
        name = reader.values.get("name")
        if isinstance(name, str) and name.strip() in names:
            reader.problem("name", f"the rule name {name.strip()!r} is used twice")
        elif isinstance(name, str) and name.strip():
            names.add(name.strip())
        if rule is not None:
            rules.append(rule)
    return tuple(rules)


def _rule(
    reader: TableReader,
    channels: Mapping[str, Channel],
    digest_hour: int | None,
    operator: str,
) -> Rule | None:
    """One [[rules]] table; None when it is disabled or cannot be used (problems say why)."""
    reader.only(RULE_KEYS)
    # An empty name is a problem, as a source's is: a rule is known by its name.
    name = reader.text("name", required=True)
    query = _query(reader, name, operator)
    chosen = reader.strings("channels", ("console",))
    if not chosen:
        reader.problem("channels", f"{_label(name)}must name at least one channel")
    for channel in chosen:
        if channel not in channels:
            known = ", ".join(sorted(channels))
            reader.problem("channels", f"no channel named {channel!r} (known: {known})")
    delivery = reader.choice("delivery", (*DELIVERY_MODES, "digest"), "instant")
    if delivery == "digest":
        delivery = "hourly" if digest_hour is None else "daily"
    hour = _hour(reader, "digest_hour", 8 if digest_hour is None else digest_hour, False)
    languages = reader.strings("languages")
    sources = reader.strings("sources")
    tags = reader.strings("tags")
    on_edit = reader.values.get("on_edit", False)
    if not isinstance(on_edit, bool):
        reader.problem("on_edit", f"{_label(name)}must be true or false (got {on_edit!r})")
        on_edit = False
    if name is None or query is None or not reader.flag("enabled", True):
        return None
    return Rule(
        name,
        query,
        chosen,
        delivery,
        8 if hour is None else hour,
        languages,
        sources,
        tags,
        on_edit,
    )


def _query(reader: TableReader, name: str | None, operator: str) -> Query | None:
    """The rule's query parsed; an empty one is a problem like any other it has."""
    text = reader.values.get("query")
    if not isinstance(text, str):
        reader.text("query", required=True)  # says it is missing, or not a string
        return None
    try:
        return parse_query(text.strip(), operator)
    except QueryError as error:  # "the query is empty" too
        reader.problem("query", f"{_label(name)}{error}")
        return None


def _label(name: str | None) -> str:
    """What a rule's problems start with: its name, when it has one (its key says where)."""
    return f"rule {name!r}: " if name else ""
