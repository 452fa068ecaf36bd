"""One boolean query written for each provider: Bing as written, Google and GDELT adapted."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from crawler.search import LocaleError, result_urls
from crawler.search.query import implicit_and, join, tokens, top_level_or

TOPIC_QUERY = '"Maroc" AND "Belgique" AND (police OR terrorisme)'


def sent(provider: str, query: str) -> str:
    """The query text a provider receives."""
    (url,) = result_urls(provider, query, None, None)
    params = parse_qs(urlsplit(url).query)
    return (params.get("q") or params["query"])[0]


def test_tokens_keep_phrases_and_parentheses():
    assert tokens('"Mocro Maffia" AND (drugs OR cocaïne) -"Ligue 1"') == [
        '"Mocro Maffia"',
        "AND",
        "(",
        "drugs",
        "OR",
        "cocaïne",
        ")",
        '-"Ligue 1"',
    ]


@pytest.mark.parametrize(
    ("query", "google", "bing", "gdelt"),
    [
        (
            TOPIC_QUERY,
            '"Maroc" "Belgique" (police OR terrorisme)',
            TOPIC_QUERY,
            '"Maroc" "Belgique" (police OR terrorisme)',
        ),
        ("Marokko OR België", "Marokko OR België", "Marokko OR België", "(Marokko OR België)"),
        ("Maroc NOT football", "Maroc -football", "Maroc NOT football", "Maroc -football"),
        ('Maroc NOT "Ligue 1"', 'Maroc -"Ligue 1"', 'Maroc NOT "Ligue 1"', 'Maroc -"Ligue 1"'),
        ("المغرب AND بلجيكا", "المغرب بلجيكا", "المغرب AND بلجيكا", "المغرب بلجيكا"),
        ("  extradition   Maroc ", "extradition Maroc", "extradition Maroc", "extradition Maroc"),
    ],
)
def test_each_provider_gets_its_own_syntax(query, google, bing, gdelt):
    assert sent("google_news", query) == google
    assert sent("bing_news", query) == bing
    assert sent("gdelt", query) == gdelt


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ('"Maroc AND police', "unclosed quote"),
        ("(Maroc OR Belgique", "'(' without its ')'"),
        ("Maroc) OR (Belgique", "')' without its '('"),
        ("Maroc NOT", "ends with NOT"),
        ("Maroc NOT (football OR tennis)", "cannot negate a group"),
    ],
)
def test_queries_a_provider_cannot_read_are_refused(query, says):
    with pytest.raises(LocaleError) as caught:
        result_urls("gdelt", query, None, None)
    assert says in str(caught.value)
    assert caught.value.key == "query"


def test_or_inside_parentheses_is_not_top_level():
    assert not top_level_or(implicit_and("a (b OR c)", "GDELT"))
    assert top_level_or(implicit_and("a OR (b c)", "GDELT"))
    assert join(["(", "a", "OR", "b", ")"]) == "(a OR b)"
