"""The rule language: what parses into which tree, and the errors a bad query gets."""

from __future__ import annotations

import pytest

from alerts.config import parse_alert_settings
from alerts.query import And, Meta, Near, Not, Or, QueryError, Term, parse_query, positive_terms


def test_boolean_phrase_wildcard_and_groups():
    root = parse_query('Aktionsplan* AND (Marokko OR "Mocro-Maffia")').root
    assert root == And(
        (
            Term(("aktionsplan",), prefix=True),
            Or((Term(("marokko",)), Term(("mocro", "maffia")))),
        )
    )


def test_not_minus_and_fields():
    root = parse_query("title:DGST -sport NOT text:voetbal").root
    assert root == And(
        (
            Term(("dgst",), field="title"),
            Not(Term(("sport",))),
            Not(Term(("voetbal",), field="text")),
        )
    )
    assert positive_terms(root) == [Term(("dgst",), field="title")]


def test_proximity_and_meta_fields():
    root = parse_query('"Hammouchi Bostyn"~10 AND lang:(nl OR fr) AND source:"De Standaard"').root
    assert root == And(
        (
            Near((Term(("hammouchi",)), Term(("bostyn",))), 10),
            Or((Meta("lang", "nl"), Meta("lang", "fr"))),
            Meta("source", "de standaard"),
        )
    )


def test_accents_and_case_are_folded_in_terms():
    assert parse_query("Sûreté").root == Term(("surete",))
    assert parse_query("STRASSE").root == parse_query("Straße").root


def test_default_operator_or_follows_lucene():
    assert parse_query("a b", "OR").root == Or((Term(("a",)), Term(("b",))))
    either = Or((Term(("a",)), Term(("b",))))
    assert parse_query("a b -c", "OR").root == And((either, Not(Term(("c",)))))
    assert parse_query("a b").root == And((Term(("a",)), Term(("b",))))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("aktionsplan AND", "expected a term after AND at position 16"),
        ("a AND AND b", "expected a term after AND, found 'AND' at position 7"),
        ("(a OR b", "missing ')' to close the '(' at position 1"),
        ("a OR )", "expected a term after OR, found ')' at position 6"),
        ('"abc', "unclosed quote at position 1"),
        ("foo:bar", "unknown field foo:"),
        ("a~2", "fuzzy terms"),
        ("*foo", "wildcards are only supported at the end"),
        ("ab*", None),
        ("a*", "at least 3 letters"),
        ("mocro and maffia", "'and' reads as an operator: write AND"),
        ("title:(text:x)", "inside the field title:"),
        ("[a TO b]", "ranges are not supported"),
        ("", "the query is empty"),
    ],
)
def test_errors_say_what_was_expected_where(query, message):
    if message is None:  # "ab*" is two letters: too short as well
        message = "at least 3 letters"
    with pytest.raises(QueryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_query(query)


def test_config_reports_the_rule_name_and_position():
    document = {
        "rules": [
            {"name": "ok", "query": "DGST"},
            {"name": "aktionsplan", "query": "Aktionsplan AND"},
        ]
    }
    settings, problems = parse_alert_settings(document, {})
    assert problems == [
        ("rules[1].query", "rule 'aktionsplan': expected a term after AND at position 16")
    ]
    assert [rule.name for rule in settings.rules] == ["ok"]
