"""The rule language: a Lucene-style query parsed by luqum into a small immutable tree.

Syntax (what analysts know from Elasticsearch/Kibana): ``AND``, ``OR``, ``NOT`` or ``-``,
``+``, parentheses, ``"exact phrases"``, trailing wildcards (``Aktionsplan*``, at least three
letters before the star), proximity (``"Hammouchi Bostyn"~10``: all words within ten words of
each other, in any order) and fields: ``title:``, ``text:`` (body and lead), ``lang:``,
``source:`` and ``tag:`` (the source's tags). Words next to each other without an operator
are joined by the default operator (AND unless configured otherwise). Positions in error
messages count characters from 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from luqum import tree
from luqum.exceptions import IllegalCharacterError, ParseError
from luqum.thread import parse as luqum_parse

from alerts.normalize import words

TEXT_FIELDS = {"title": "title", "text": "text", "body": "text"}
META_FIELDS = {"lang": "lang", "language": "lang", "source": "source", "tag": "tag", "tags": "tag"}
MIN_PREFIX = 3
OPERATOR_WORDS = {"and", "or", "not"}


class QueryError(ValueError):
    """A query that cannot be used, with the 1-based position of the problem."""

    def __init__(self, message: str, position: int | None = None) -> None:
        where = f" at position {position}" if position is not None else ""
        super().__init__(f"{message}{where}")
        self.position = position


@dataclass(frozen=True, slots=True)
class Term:
    """A word, a word sequence or a word prefix, in one field or (field None) in any."""

    words: tuple[str, ...]
    prefix: bool = False
    field: str | None = None

    @property
    def key(self) -> tuple[tuple[str, ...], bool]:
        return self.words, self.prefix

    @property
    def label(self) -> str:
        text = " ".join(self.words) + ("*" if self.prefix else "")
        return f'"{text}"' if len(self.words) > 1 else text


@dataclass(frozen=True, slots=True)
class Near:
    """All terms within `slop` words of one another."""

    terms: tuple[Term, ...]
    slop: int
    field: str | None = None


@dataclass(frozen=True, slots=True)
class Meta:
    """A condition on the article's language, source name or source tags."""

    field: str  # lang | source | tag
    value: str  # folded words joined by single spaces
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


Node = Term | Near | Meta | And | Or | Not


@dataclass(frozen=True)
class Query:
    text: str
    root: Node


def parse_query(text: str, default_operator: str = "AND") -> Query:
    """Parse `text`; raise QueryError saying what was expected where."""
    if not text.strip():
        raise QueryError("the query is empty")
    try:
        parsed = luqum_parse(text)
    except ParseError as error:
        raise _syntax_error(text, error) from None
    return Query(text, _convert(parsed, None, default_operator.upper()))


def terms(node: Node) -> list[Term]:
    """Every term in the tree, negated ones included, in query order."""
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Near):
        return list(node.terms)
    if isinstance(node, And | Or):
        return [term for child in node.children for term in terms(child)]
    if isinstance(node, Not):
        return terms(node.child)
    return []


def positive_terms(node: Node) -> list[Term]:
    """The terms whose presence can make the query match (those not under a NOT)."""
    if isinstance(node, And | Or):
        return [term for child in node.children for term in positive_terms(child)]
    if isinstance(node, Not):
        return []
    return terms(node)


_UNEXPECTED = re.compile(r"unexpected\s+'(?P<token>.*)' at position (?P<position>\d+)", re.S)
_ILLEGAL = re.compile(r"Illegal character '(?P<token>.*)' at position (?P<position>\d+)", re.S)
_TRAILING_OPERATOR = re.compile(r"(?:^|[\s(])(?P<op>AND|OR|NOT|&&|\|\||[-+!:])\s*$")


def _syntax_error(text: str, error: ParseError) -> QueryError:
    if isinstance(error, IllegalCharacterError) and (found := _ILLEGAL.search(str(error))):
        position = int(found["position"]) + 1
        if found["token"].startswith('"'):
            return QueryError("unclosed quote", position)
        return QueryError(f"unexpected character {found['token'][:1]!r}", position)
    found = _UNEXPECTED.search(str(error))
    if found is None:  # the parser reached the end of the text
        if operator := _TRAILING_OPERATOR.search(text):
            return QueryError(f"expected a term after {operator['op']}", len(text.rstrip()) + 1)
        if (unclosed := _unclosed_parenthesis(text)) is not None:
            return QueryError("missing ')' to close the '('", unclosed + 1)
        return QueryError("unexpected end of query", len(text) + 1)
    token, offset = found["token"], int(found["position"])
    before = _TRAILING_OPERATOR.search(text[:offset])
    if before:
        return QueryError(f"expected a term after {before['op']}, found {token!r}", offset + 1)
    if token == ")":  # noqa: S105 (not a password)
        return QueryError("')' without a matching '('", offset + 1)
    if token in {"AND", "OR"} and not text[:offset].strip(" ("):
        return QueryError(f"expected a term before {token}", offset + 1)
    return QueryError(f"unexpected {token!r}", offset + 1)


def _unclosed_parenthesis(text: str) -> int | None:
    opened: list[int] = []
    quoted = False
    for offset, character in enumerate(text):
        if character == '"':
            quoted = not quoted
        elif character == "(" and not quoted:
            opened.append(offset)
        elif character == ")" and not quoted and opened:
            opened.pop()
    return opened[0] if opened else None


def _at(item: tree.Item) -> int | None:
    position = getattr(item, "pos", None)
    return position + 1 if position is not None else None


def _convert(item: tree.Item, field: str | None, default: str) -> Node:
    match item:
        case tree.AndOperation():
            return _flatten(And, [_convert(child, field, default) for child in item.children])
        case tree.OrOperation():
            return _flatten(Or, [_convert(child, field, default) for child in item.children])
        case tree.Not() | tree.Prohibit():
            return Not(_convert(item.a, field, default))
        case tree.Plus() | tree.Group() | tree.FieldGroup() | tree.Boost():
            return _convert(item.children[0], field, default)
        case tree.UnknownOperation():
            return _implicit(item, field, default)
        case tree.SearchField():
            return _field(item, field, default)
        case tree.Proximity():
            return _near(item, field)
        case tree.Phrase() | tree.Word():
            if field in META_FIELDS.values():
                return _meta(item, field)
            return _term(item, field)
        case tree.Fuzzy():
            raise QueryError("fuzzy terms (word~N) are not supported; use a wildcard", _at(item))
        case tree.Range() | tree.From() | tree.To():
            raise QueryError("ranges are not supported", _at(item))
        case tree.Regex():
            raise QueryError("regular expressions are not supported", _at(item))
    raise QueryError(f"{type(item).__name__} is not supported", _at(item))


def _flatten(kind: type[And] | type[Or], children: list[Node]) -> Node:
    flat: list[Node] = []
    for child in children:
        flat.extend(child.children if isinstance(child, kind) else [child])
    return flat[0] if len(flat) == 1 else kind(tuple(flat))


def _implicit(item: tree.UnknownOperation, field: str | None, default: str) -> Node:
    """Words without an operator: Lucene's rules for +/-, then the default operator."""
    required, optional, prohibited = [], [], []
    for child in item.children:
        node = _convert(child, field, default)
        if isinstance(child, tree.Plus):
            required.append(node)
        elif isinstance(child, tree.Prohibit | tree.Not):
            prohibited.append(node)
        else:
            optional.append(node)
    if default == "AND":
        return _flatten(And, required + optional + prohibited)
    if optional and not required:
        required = [_flatten(Or, optional)]
    return _flatten(And, required + prohibited)


def _field(item: tree.SearchField, field: str | None, default: str) -> Node:
    name = item.name.lower()
    if field is not None:
        raise QueryError(f"field {item.name}: is inside the field {field}:", _at(item))
    if name in TEXT_FIELDS:
        return _convert(item.expr, TEXT_FIELDS[name], default)
    if name in META_FIELDS:
        return _convert(item.expr, META_FIELDS[name], default)
    known = ", ".join(f"{name}:" for name in ("title", "text", "lang", "source", "tag"))
    raise QueryError(f"unknown field {item.name}: (known: {known})", _at(item))


def _unquote(item: tree.Phrase | tree.Word) -> str:
    value = item.value
    return value[1:-1] if isinstance(item, tree.Phrase) else value


def _term(item: tree.Phrase | tree.Word, field: str | None) -> Term:
    value = _unquote(item)
    if isinstance(item, tree.Word) and value.lower() in OPERATOR_WORDS:
        raise QueryError(
            f'{value!r} reads as an operator: write {value.upper()}, or "{value}" to search it',
            _at(item),
        )
    prefix = value.endswith("*")
    core = value.rstrip("*") if prefix else value
    if "*" in core or "?" in core:
        raise QueryError(f"wildcards are only supported at the end of a term: {value!r}", _at(item))
    found = words(core)
    if not found:
        raise QueryError(f"{value!r} has no letters or digits to search for", _at(item))
    if prefix and len(found[-1]) < MIN_PREFIX and len(found) == 1:
        raise QueryError(
            f"a wildcard needs at least {MIN_PREFIX} letters before the *: {value!r}", _at(item)
        )
    return Term(found, prefix, field)


def _near(item: tree.Proximity, field: str | None) -> Node:
    if not isinstance(item.term, tree.Phrase) or field in META_FIELDS.values():
        raise QueryError("proximity (~N) applies to a phrase of text words", _at(item))
    pieces = _unquote(item.term).split()
    near_terms = tuple(_term(tree.Word(piece, pos=item.pos), None) for piece in pieces)
    if len(near_terms) == 1:
        return Term(near_terms[0].words, near_terms[0].prefix, field)
    return Near(near_terms, int(item.degree if item.degree is not None else 1), field)


def _meta(item: tree.Phrase | tree.Word, field: str) -> Meta:
    value = _unquote(item)
    prefix = value.endswith("*")
    folded = " ".join(words(value.rstrip("*")))
    if not folded:
        raise QueryError(f"{field}: needs a value", _at(item))
    return Meta(field, folded, prefix)
