"""One boolean query, written once, in each provider's syntax.

A query is written the way Bing reads it: words, "quoted phrases", AND, OR, NOT (upper
case), a leading - for NOT, and parentheses. Google News and GDELT treat a space as AND and
know no AND or NOT: AND is dropped and NOT x becomes -x. GDELT also accepts OR only inside
parentheses, so a query that is an OR of terms is put in them.
"""

from __future__ import annotations

import re

from crawler.search.locales import LocaleError

# a phrase (possibly negated), a parenthesis, or a run of anything else
_TOKEN = re.compile(r'-?"[^"]*"|[()]|[^\s()"]+')


def tokens(query: str) -> list[str]:
    """The terms, phrases, operators and parentheses of a query; raises LocaleError on an
    unclosed quote or parenthesis."""
    if query.count('"') % 2:
        raise LocaleError("query", "has an unclosed quote")
    found = _TOKEN.findall(query)
    depth = 0
    for term in found:
        depth += {"(": 1, ")": -1}.get(term, 0)
        if depth < 0:
            raise LocaleError("query", "has a ')' without its '('")
    if depth:
        raise LocaleError("query", "has a '(' without its ')'")
    return found


def implicit_and(query: str, provider: str) -> list[str]:
    """The query's tokens for a provider that reads a space as AND and -x as NOT x."""
    out: list[str] = []
    negate = False
    for term in tokens(query):
        if term == "AND":
            continue
        if term == "NOT":
            negate = True
            continue
        if negate:
            if term in ("(", ")"):
                raise LocaleError("query", f"{provider} cannot negate a group: NOT ( ... )")
            term = term if term.startswith("-") else f"-{term}"
            negate = False
        out.append(term)
    if negate:
        raise LocaleError("query", "ends with NOT")
    return out


def join(parts: list[str]) -> str:
    """Tokens back into a query, without spaces just inside parentheses."""
    text = " ".join(parts)
    return text.replace("( ", "(").replace(" )", ")")


def top_level_or(parts: list[str]) -> bool:
    depth = 0
    for term in parts:
        depth += {"(": 1, ")": -1}.get(term, 0)
        if term == "OR" and depth == 0:
            return True
    return False
