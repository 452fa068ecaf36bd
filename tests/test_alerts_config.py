"""Alert settings: the documented TOML shape, defaults, and every problem reported at once."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import alerts.config
from alerts.channels import CHANNELS
from alerts.config import CHANNEL_KINDS, RetryPolicy, parse_alert_settings
from newswatch.settings import ConfigError, parse_settings

EXAMPLE = """
[alerts]
timezone = "Europe/Brussels"
digest_hour = 8

[channels.console]
kind = "console"

[channels.desk-mail]
kind = "email"
host = "smtp.example.org"
port = 587
security = "starttls"
username_env = "NEWSWATCH_SMTP_USER"
password_env = "NEWSWATCH_SMTP_PASSWORD"
sender = "newswatch@example.org"
recipients = ["desk@example.org"]

[channels.ops-hook]
kind = "webhook"
url = "https://hooks.example.org/newswatch"
secret_env = "NEWSWATCH_WEBHOOK_SECRET"
timeout = 15

[[rules]]
name = "mocro-maffia"
query = '"Mocro-Maffia" OR Mocromaffia'
channels = ["console", "desk-mail", "ops-hook"]
delivery = "instant"
languages = []
sources = []
tags = []

[[rules]]
name = "aktionsplan"
query = 'Aktionsplan* AND (Marokko OR Belgien)'
delivery = "digest"
languages = ["de"]
"""
ENV = {
    "NEWSWATCH_SMTP_USER": "alice",
    "NEWSWATCH_SMTP_PASSWORD": "pw",
    "NEWSWATCH_WEBHOOK_SECRET": "whsec_c2VjcmV0",
}


def test_the_documented_example_parses():
    settings, problems = parse_alert_settings(tomllib.loads(EXAMPLE), ENV)
    assert problems == []
    assert settings.timezone == "Europe/Brussels"
    mail = settings.channels["desk-mail"]
    assert mail.options["port"] == 587 and mail.secrets == {"username": "alice", "password": "pw"}
    assert "pw" not in repr(mail)  # secrets stay out of logs
    assert settings.channels["ops-hook"].secrets["secret"] == "whsec_c2VjcmV0"
    first, second = settings.rules
    assert first.channels == ("console", "desk-mail", "ops-hook") and first.delivery == "instant"
    assert second.channels == ("console",) and second.delivery == "daily"
    assert second.digest_hour == 8 and second.languages == ("de",)


def test_nothing_configured_still_has_a_console_channel():
    settings, problems = parse_alert_settings({}, {})
    assert problems == [] and settings.rules == () and list(settings.channels) == ["console"]


def test_every_problem_is_reported_with_its_key():
    document = tomllib.loads(EXAMPLE)
    document["alerts"]["timezone"] = "Mars/Olympus"
    document["alerts"]["digest_hour"] = 25
    document["channels"]["desk-mail"]["securty"] = "tls"
    document["rules"][0]["channels"] = ["console", "pager"]
    document["rules"][1]["delivery"] = "weekly"
    document["rules"].append({"name": "mocro-maffia", "query": "x"})
    _, problems = parse_alert_settings(document, {"NEWSWATCH_SMTP_USER": "alice"})
    keys = [key for key, _ in problems]
    assert keys == [
        "alerts.timezone",
        "alerts.digest_hour",
        "channels.desk-mail.securty",
        "channels.desk-mail.password_env",
        "channels.ops-hook.secret_env",
        "rules[0].channels",
        "rules[1].delivery",
        "rules[2].name",
    ]
    messages = dict(problems)
    assert messages["channels.ops-hook.secret_env"] == (
        "environment variable NEWSWATCH_WEBHOOK_SECRET is not set"
    )
    assert "no channel named 'pager'" in messages["rules[0].channels"]


def test_bad_values_never_raise():
    document = {
        "alerts": "nope",
        "channels": {"x": {"kind": "carrier-pigeon"}, "y": {"kind": "webhook", "url": "ftp://a"}},
        "rules": [{"query": 42}, "not a table"],
    }
    _, problems = parse_alert_settings(document, {})
    keys = [key for key, _ in problems]
    assert "alerts" in keys and "channels.x.kind" in keys and "channels.y.url" in keys
    assert "rules[0].name" in keys and "rules[0].query" in keys and "rules[1]" in keys


def test_claim_lease_is_a_duration_above_zero():
    assert parse_alert_settings({}, {})[0].claim_lease_seconds == 600.0  # ten minutes
    for written, seconds in (("30s", 30.0), ("2m", 120.0), (45, 45.0), (1.5, 1.5)):
        settings, problems = parse_alert_settings({"alerts": {"claim_lease": written}}, {})
        assert (settings.claim_lease_seconds, problems) == (seconds, [])
    for wrong in ("soon", 0, -5, "0s", True):
        settings, problems = parse_alert_settings({"alerts": {"claim_lease": wrong}}, {})
        assert [key for key, _ in problems] == ["alerts.claim_lease"], wrong
        assert settings.claim_lease_seconds == 600.0


def test_a_webhook_secret_that_yields_no_key_is_reported_at_load():
    for secret, wrong in (
        ("whsec_abc", "the part after whsec_ is not valid base64 (Incorrect padding)"),
        ("whsec_", "the part after whsec_ is empty"),
    ):
        _, problems = parse_alert_settings(
            tomllib.loads(EXAMPLE), {**ENV, "NEWSWATCH_WEBHOOK_SECRET": secret}
        )
        assert problems == [
            (
                "channels.ops-hook.secret_env",
                "environment variable NEWSWATCH_WEBHOOK_SECRET does not hold a usable "
                f"signing secret: {wrong}",
            )
        ], secret


def test_an_empty_query_is_a_problem_naming_the_rule_not_a_rule_dropped_in_silence():
    document = tomllib.loads(EXAMPLE)
    document["rules"][1]["query"] = ""
    document["rules"].append({"name": "blank", "query": "   "})
    settings, problems = parse_alert_settings(document, ENV)
    assert problems == [
        ("rules[1].query", "rule 'aktionsplan': the query is empty"),
        ("rules[2].query", "rule 'blank': the query is empty"),
    ]
    assert [rule.name for rule in settings.rules] == ["mocro-maffia"]


def test_an_empty_rule_name_is_a_problem_as_a_sources_is():
    document = {
        "sources": [{"name": "", "kind": "feed", "url": "https://a.example/feed"}],
        "rules": [{"name": "", "query": "DGST AND"}, {"name": " ", "query": "DGST"}],
    }
    _, problems = parse_alert_settings(document, {})
    assert problems == [
        ("rules[0].name", "must not be empty"),
        ("rules[0].query", "expected a term after AND at position 9"),  # no "#0" made up
        ("rules[1].name", "must not be empty"),
    ]
    with pytest.raises(ConfigError) as raised:
        parse_settings(document, Path("n.toml"), {})
    assert "n.toml: sources[0].name: must not be empty" in raised.value.lines()
    assert "n.toml: rules[0].name: must not be empty" in raised.value.lines()


def test_an_unknown_channel_option_names_the_channel_and_key_and_suggests_one():
    document = tomllib.loads(EXAMPLE)
    document["channels"]["desk-mail"]["securty"] = "tls"
    document["channels"]["ops-hook"]["timout"] = 5
    document["channels"]["console"]["stream"] = "stderr"
    _, problems = parse_alert_settings(document, ENV)
    assert problems == [
        ("channels.console.stream", "unknown key"),
        ("channels.desk-mail.securty", "unknown key (did you mean 'security'?)"),
        ("channels.ops-hook.timout", "unknown key (did you mean 'timeout'?)"),
    ]


def test_a_missing_required_option_is_named():
    document = {
        "channels": {
            "desk-mail": {"kind": "email", "recipients": []},
            "ops-hook": {"kind": "webhook"},
        }
    }
    _, problems = parse_alert_settings(document, {})
    assert problems == [
        ("channels.desk-mail.host", "is required"),
        ("channels.desk-mail.sender", "is required"),
        ("channels.desk-mail.recipients", "must not be empty"),
        ("channels.ops-hook.url", "is required"),
        ("channels.ops-hook.secret_env", "is required"),
    ]


def test_channel_options_are_checked_by_what_their_kind_declares():
    document = tomllib.loads(EXAMPLE)
    mail, hook = document["channels"]["desk-mail"], document["channels"]["ops-hook"]
    mail.update(port=70000, sender="newswatch", recipients=["desk@example.org", "desk"])
    hook.update(url="ftp://hooks.example.org/T0/secret-token", timeout="2 weeks")
    _, problems = parse_alert_settings(document, ENV)
    assert problems == [
        ("channels.desk-mail.port", "must be at most 65535 (got 70000)"),
        ("channels.desk-mail.sender", "'newswatch' is not an email address"),
        ("channels.desk-mail.recipients[1]", "'desk' is not an email address"),
        ("channels.ops-hook.url", "must be an http(s) address (got ftp://hooks.example.org)"),
        (
            "channels.ops-hook.timeout",
            'must be a duration like "90s", "15m" or "2h" '
            "(units: s, m, h, d); 'weeks' is not a unit "
            "(got '2 weeks')",
        ),
    ]


def test_channel_defaults_come_from_the_declared_options():
    document = tomllib.loads(EXAMPLE)
    del document["channels"]["desk-mail"]["port"]
    document["channels"]["desk-mail"]["security"] = "tls"
    del document["channels"]["ops-hook"]["timeout"]
    settings, problems = parse_alert_settings(document, ENV)
    assert problems == []
    assert dict(settings.channels["desk-mail"].options) == {
        "host": "smtp.example.org",
        "security": "tls",
        "port": 465,
        "sender": "newswatch@example.org",
        "recipients": ("desk@example.org",),
        "timeout": 30.0,
    }
    assert dict(settings.channels["ops-hook"].options) == {
        "url": "https://hooks.example.org/newswatch",
        "timeout": 15.0,
    }


def test_every_declared_option_is_documented_and_every_kind_registered():
    assert CHANNEL_KINDS == tuple(CHANNELS) == ("console", "email", "webhook", "apprise")
    doc = alerts.config.__doc__
    block = doc[doc.index("# console:") : doc.index("[[rules]]")]
    sections = re.split(r"# (\w+):", block)
    documented = dict(zip(sections[1::2], sections[2::2], strict=True))
    assert set(documented) == set(CHANNELS)
    for kind, channel in CHANNELS.items():
        for option in channel.OPTIONS:
            assert re.search(rf"\b{option.name}\b", documented[kind]), (
                f"{kind}: {option.name} is not in alerts.config's docstring"
            )


def test_durations_are_read_as_everywhere_in_the_configuration():
    written = {"retry_base": "1m", "retry_max": "3h", "retry_horizon": "1d", "claim_lease": 90}
    settings, problems = parse_alert_settings({"alerts": written}, {})
    assert problems == []
    assert settings.retry == RetryPolicy(60.0, 3 * 3600.0, 86400.0)
    assert settings.claim_lease_seconds == 90.0
    _, problems = parse_alert_settings({"alerts": {"retry_horizon": "400d", "retry_base": 0}}, {})
    assert problems == [
        (
            "alerts.retry_base",
            'must be positive, a duration like "90s", "15m" or "2h" (units: s, m, h, d) (got 0)',
        ),
        ("alerts.retry_horizon", "must be at most 366d (got '400d')"),
    ]


def test_a_retry_horizon_of_zero_gives_up_at_the_first_failure():
    settings, problems = parse_alert_settings({"alerts": {"retry_horizon": 0}}, {})
    assert (settings.retry.horizon_seconds, problems) == (0.0, [])
    _, problems = parse_alert_settings({"alerts": {"retry_horizon": "-1h"}}, {})
    assert problems == [
        (
            "alerts.retry_horizon",
            'must be zero or more, a duration like "90s", "15m" or "2h" '
            "(units: s, m, h, d) (got '-1h')",
        ),
    ]
