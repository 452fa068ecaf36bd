"""Alert settings: the documented TOML shape, defaults, and every problem reported at once."""

from __future__ import annotations

import tomllib

from alerts.config import parse_alert_settings

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
