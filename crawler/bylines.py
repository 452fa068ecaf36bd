"""Bylines: the people (else the news agency) credited with an article, read from its page."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from lxml import etree
from lxml.html import HtmlElement

from crawler.evidence import fold

_META_AUTHOR = frozenset(
    "author byl parsely-author sailthru.author dc.creator dcterms.creator citation_author"
    " article:author".split()
)
_META_SITE = frozenset("og:site_name application-name twitter:site publisher".split())
JSON_LD = "//script[@type='application/ld+json']/text()"
# trafilatura's byline locations (trafilatura.xpaths.AUTHOR_XPATHS), and what it discards.
_NAME_CLASS = re.compile(r"author-?name|AuthorName|authorName")
_BYLINE_ID = re.compile(r"author|zuozhe|bianji|xiaobian")
_BYLINE_CLASS = re.compile(
    r"author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name"
)
_ANY_ID = re.compile(r"[Aa]uthor")
_ANY_CLASS = re.compile(r"[Aa]uthor|screenname|writer|[Bb]yline")
_DISCARD_ID = re.compile(r"^comments|comment-?list|ProductReviews")
_DISCARD_CLASS = re.compile(
    r"^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram"
    r"|article-(?:share|support)|print|category|meta-date|meta-reviewer"
)
# What a class or id needs for _byline_rank to rank its element (a superset of its tests)
_MAY_RANK_CLASS = re.compile(
    r"uthor|yline|screenname|writer|channel-name|zuozhe|bianji|xiaobian|submitted-by"
    r"|posted-by|journalist-name|^(?:username|byl|BBL)$"
)
_MAY_RANK_ID = re.compile(r"uthor|zuozhe|bianji|xiaobian")
# An author's value in JSON-LD too broken to parse whole: the value alone often parses.
_JSON_LD_AUTHOR = re.compile(r'"author"\s*:\s*("(?:[^"\\]|\\.)*"|\{[^{}]*\}|\[[^\[\]]*\])')

# As _key writes them. A byline naming no person keeps its agencies ("Le360 avec Belga").
AGENCIES = frozenset(
    "belga|afp|agence france presse|dpa|deutsche presse agentur|anp|reuters|thomson reuters"
    "|ap|associated press|the associated press|map|maghreb arabe presse|و م ع|pti"
    "|press trust of india|ansa|efe|apa|sda|ats|kna|epd|upi|ians|aap|xinhua|tass|kyodo"
    "|yonhap|bloomberg|canadian press|the canadian press|رويترز|ا ف ب".split("|")
)
# A desk, not a person: a part ending in one of these, or opening with a newsroom word.
_COLLECTIVE = re.compile(
    r"(?:^|\s)(?:staff|reports|editorial|editors|redaktion|redaction|redactie|redazione"
    r"|redaccion|newsroom|desk|bureau|team|wire services|wires|agencies|agences|agenturen"
    r"|وكالات|admin|administrator|webmaster)$"
    r"|^(?:redaktion|redaction|la redaction|redactie|de redactie|redazione|staff)\b"
)
# Job titles after a name ("Meg James Staff Writer"): the name ends before them.
_ROLES = frozenset(
    "reporter correspondent writer editor editor-at-large contributor columnist journalist"
    " journaliste redacteur redactrice correspondant correspondante redakteur redakteurin"
    " korrespondent korrespondentin verslaggever correspondente chroniqueur".split()
)
_QUALIFIERS = frozenset(
    "senior chief national political politics security sports sport auto business news staff"
    " special contributing freelance science tech health world international media money"
    " digital online weekly deputy associate managing executive investigative com org net".split()
)
_CREDENTIALS = frozenset("ms md phd rd rdn mba cpa dr prof mr mrs mme".split())
_PHOTO_CREDIT = re.compile(r"^(?:photos?|fotos?|фото|bild|beeld|illustrations?|vid[eé]o)\b", re.I)

_PREFIX = re.compile(
    r"^(?:(?:posted|written|reported|analysis|opinion|commentary|review|story|words|interview"
    r"|compiled|edited|additional reporting)\s+)?(?:by|par|von|door|por)\b\s*:?\s*"
    r"|(?-i:^di\s+)"  # Italian, in lower case only: "Di Maria" is a name
    r"|^(?:avec|with|mit|met|و|مع)\s+"  # "(avec Belga)", ", mit dpa"
    r"|^(?:texte?|tekst|auteur|autor|author|текст|автор)\b\s*:?\s*"
    r"|^(?:بقلم|إعداد)\s*:?\s*",
    re.IGNORECASE,
)
_BY = re.compile(r"(?:^|\s)(?:by|par|von|door|por)\s", re.IGNORECASE)
_DATE_WORDS = (
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|september"
    "|october|november|december|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|janvier"
    "|février|juillet|septembre|octobre|novembre|décembre|montag|dienstag|mittwoch|donnerstag"
    "|freitag|samstag|sonntag|januar|februar|märz|oktober|dezember|maandag|dinsdag|woensdag"
    "|donderdag|vrijdag|zaterdag|zondag|januari|februari|maart|published|updated|posted on"
    "|publié|mis à jour|veröffentlicht|aktualisiert|gepubliceerd|bijgewerkt|min read"
)
# Where a trailing date or time begins. Months that are also names (April, June, Mars, Jan)
# count only before a number, and a number only at the start of a word ("Le360" is a name).
_DATE = re.compile(
    rf"(?<!\w)(?:\d|(?:{_DATE_WORDS})(?!\w)"
    r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec|march|april|june|july|august"
    r"|mars|avril|mai|juin|août|juni|juli|mei|augustus)\.?\s*\d)",
    re.IGNORECASE,
)
_JUNK = re.compile(r"<[^>]*>|https?://\S+|www\.\S+|[\w.+-]+@[\w-]+\.[\w.-]+|@\w+")
_SPLIT = re.compile(
    r"\s*(?:[,;|/·•()\[\]]|\s[-–—]\s|(?<=\w\w)\.\s)\s*"
    r"|\s+(?:and|AND|&|et|und|en|e|y|avec|with|mit|met|و|مع)\s+"
)
_TAIL = re.compile(
    r"\s+(?:is|est|ist)\s+(?:a|an|the|un|une|ein|eine)\s.*$|\s+(?:for|pour|für|voor)\s.*$"
)
_STRIP = " .:-–—'\""
_NON_WORD = re.compile(r"\W+")
_PARTICLES = frozenset(
    "de del della der den di da do dos das du la le les van von ter ten zu y e al el bin ibn"
    " d l".split()
)


def _key(text: str) -> str:
    """Casefolded, without accents, punctuation as single spaces: for comparisons only."""
    # fold also writes ’ as ', which is punctuation all the same
    return " ".join(_NON_WORD.sub(" ", fold(text)).split())


def _outlet_key(name: str) -> str:
    """A spaceless key for an outlet's name, without "the" or a domain ending."""
    words = _key(name.replace("_", " ")).removeprefix("the ").split()
    while len(words) > 1 and words[-1] in ("com", "org", "net", "info"):
        words.pop()
    return "".join(words)


def _outlet_keys(names: Iterable[str]) -> frozenset[str]:
    """Keys of the outlet's names, with acronyms of longer ones (HNN: Hawaii News Now)."""
    keys = set()
    for name in names:
        keys.add(_outlet_key(name))
        words = _key(name).removeprefix("the ").split()
        if len(words) > 2:
            keys.add("".join(word[0] for word in words))
    return frozenset(key for key in keys if len(key) >= 2)


def _site_labels(url: str) -> list[str]:
    """The registrable label of the host ("cnn" of edition.cnn.com, "bbc" of bbc.co.uk),
    and its parts when hyphenated."""
    labels = (urlsplit(url).hostname or "").split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and len(labels[-2]) <= 3:
        label = labels[-3]
    else:
        label = labels[-2] if len(labels) >= 2 else ""
    return [label, *(part for part in label.split("-")[:-1] if len(part) >= 3)]


def _is_outlet(tokens: list[str], outlets: frozenset[str]) -> bool:
    """Whether the tokens start with the outlet's name and add only a section, a desk or a
    job ("CNN Business", "Telegraph Sport", "Live Science Contributor"), or start with its
    name in capitals in a byline that is not all capitals ("NJ Advance Media")."""
    for end in range(1, len(tokens) + 1):
        head = _outlet_key(" ".join(tokens[:end]))
        rest = _key(" ".join(tokens[end:])).split()
        descriptive = all(word in _QUALIFIERS or word in _ROLES for word in rest)
        if head in outlets:
            shouting = [token.isupper() for token in tokens]
            if descriptive or (all(shouting[:end]) and not all(shouting[end:])):
                return True
        # "Sputnik International" on sputniknews.com
        elif rest and descriptive and len(head) >= 4 and any(o.startswith(head) for o in outlets):
            return True
    return False


def _agency(tokens: list[str]) -> str | None:
    """The agency a part names, alone or with a job title ("AP National Writer")."""
    for end in range(len(tokens), 0, -1):
        rest = _key(" ".join(tokens[end:])).split()
        if _key(" ".join(tokens[:end])) in AGENCIES and all(
            word in _QUALIFIERS or word in _ROLES for word in rest
        ):
            return " ".join(tokens[:end])
    return None


def _person(part: str, outlets: frozenset[str], alone: bool) -> str:
    """The person a byline part names, without the job title or affiliation after the name;
    "" when the part names no person (a desk, an outlet, a photo credit, a user name)."""
    key = _key(part)
    if (
        _COLLECTIVE.search(key)
        or _PHOTO_CREDIT.match(part)
        or key.startswith("the ")
        or re.search(r"\d|admin$", key)
        or _is_outlet(part.split(), outlets)
    ):
        return ""
    words = _TAIL.sub("", part).split()
    for index, word in enumerate(words):
        if _key(word).replace(" ", "-") in _ROLES or _key(word.split("-")[0]) in _ROLES:
            words = words[:index]
            while words and _key(words[-1]) in _QUALIFIERS:
                words.pop()
            break
    for start in range(1, len(words)):
        tail = words[start:]
        # "ERIC TUCKER Associated Press", "Jan Peeters ANP"; but "Michael Bloomberg" stays
        wire = _agency(tail) and (len(tail) > 1 or (tail[0].isupper() and len(tail[0]) <= 4))
        if wire or _is_outlet(tail, outlets):
            words = words[:start]
            break
    half = len(words) // 2
    if half and words[:half] == words[half:]:
        words = words[:half]  # "Sean Martin Sean Martin": the name, then its link
    name = " ".join(words).strip(_STRIP)
    if not name or len(words) > 6 or _key(name) in _CREDENTIALS:
        return ""
    # One word is a name only when alone ("Regan"), and not in capitals (a code: KWCHCIK).
    if len(words) == 1 and (not alone or name.isupper()):
        return ""
    if name.isupper() or name.islower():
        return name.title()  # "LISA MASCARO", "вера": as most bylines write names
    # In a name every word but a particle is capitalised: not "Syrian defense ministries".
    lower = [w for w in words if w[0].islower() and re.split(r"[-'’]", w)[0] not in _PARTICLES]
    return "" if lower else name


def names(raw: str | None, outlets: frozenset[str] = frozenset()) -> list[str]:
    """The people a byline names; the agencies it names when it names no one.

    Drops prefixes (By, Par, Von, Door, Texte:), the outlet's own name (`outlets`, as
    _outlet_keys gives them), desks (Rédaction, Staff), job titles, credentials, handles,
    e-mail addresses and a trailing date.
    """
    text = " ".join(_JUNK.sub(" ", html.unescape(raw or "")).replace("_", " ").split())
    by = _BY.search(text)
    if by and by.start() > 0 and _DATE.search(text[: by.start()]):
        text = text[by.end() :]  # "Monday November 18, 2019 7:45 am PST by Joe Rossignol"
    text = _PREFIX.sub("", text)
    if date := _DATE.search(text):
        text = text[: date.start()]
    parts = [_PREFIX.sub("", part).strip(_STRIP) for part in _SPLIT.split(text) if part]
    parts = [part for part in parts if _key(part)]
    people: list[str] = []
    agencies: list[str] = []
    for part in parts:
        if agency := _agency(part.split()):
            agencies.append(agency)
        elif name := _person(part, outlets, alone=len(parts) == 1):
            people.append(name)
    return _unique(people) or _unique(agencies)


def _unique(found: list[str]) -> list[str]:
    """Each name once: "Troy L. Smith" and "Troy Smith" are one (initials aside)."""
    seen: dict[str, str] = {}
    for name in found:
        seen.setdefault(_name_key(name), name)
    return list(seen.values())


def _name_key(name: str) -> str:
    return " ".join(word for word in _key(name).split() if len(word) > 1)


def _json_ld_nodes(blocks: Iterable[str]) -> list[dict]:
    nodes: list[dict] = []
    for block in blocks:
        try:
            data = json.loads(block, strict=False)
        except ValueError:
            for value in _JSON_LD_AUTHOR.findall(block):
                try:
                    nodes.append({"@type": "Article", "author": json.loads(value, strict=False)})
                except ValueError:
                    continue
            continue
        for node in data if isinstance(data, list) else [data]:
            if isinstance(node, dict):
                nodes.append(node)
                nodes += [item for item in node.get("@graph") or [] if isinstance(item, dict)]
    return nodes


def _types(node: dict) -> str:
    kind = node.get("@type") or ""
    return " ".join(map(str, kind)) if isinstance(kind, list) else str(kind)


def _json_ld_authors(nodes: list[dict]) -> tuple[list[str], list[str]]:
    """The names of the article's authors in JSON-LD: people, and organisations."""
    by_id = {node["@id"]: node for node in nodes if isinstance(node.get("@id"), str)}
    # The article's own node first: a page may describe a site or related articles too.
    articles = sorted(
        (node for node in nodes if node.get("author")),
        key=lambda node: not re.search(r"Article|Posting|Report", _types(node)),
    )
    people: list[str] = []
    organisations: list[str] = []
    found = articles[0]["author"] if articles else []
    for author in found if isinstance(found, list) else [found]:
        if isinstance(author, dict) and "name" not in author:
            author = by_id.get(author.get("@id"), author)
        name = author.get("name") if isinstance(author, dict) else author
        if isinstance(name, str) and name.strip():
            is_organisation = isinstance(author, dict) and "Organization" in _types(author)
            (organisations if is_organisation else people).append(name)
    return people, organisations


def _meta(tree: HtmlElement) -> tuple[list[str], list[str]]:
    """The content of the page's author meta tags, and of its site-name meta tags."""
    authors: list[str] = []
    sites: list[str] = []
    for meta in tree.iter("meta"):
        name = (meta.get("name") or meta.get("property") or meta.get("itemprop") or "").lower()
        if (name in _META_AUTHOR or name in _META_SITE) and (
            content := (meta.get("content") or "").strip()
        ):
            (authors if name in _META_AUTHOR else sites).append(content)
    return authors, sites


def _publishers(site_meta: list[str], nodes: list[dict]) -> list[str]:
    found = [name.lstrip("@") for name in site_meta]
    for node in nodes:
        publisher = node.get("publisher")
        for entry in publisher if isinstance(publisher, list) else [publisher]:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                found.append(entry["name"])
        if re.search(r"Organization|WebSite", _types(node)) and isinstance(node.get("name"), str):
            found.append(node["name"])
    return found


def _discarded(element: HtmlElement) -> bool:
    """Dates, figures, comments, sidebars: never part of a byline."""
    tag = element.tag
    if tag in ("time", "figure"):
        return True
    if tag not in ("a", "div", "section", "span"):
        return False
    ident, kind = element.get("id") or "", element.get("class") or ""
    return bool(
        ident == "comments"
        or kind in ("comments", "title", "date")
        or _DISCARD_ID.search(ident)
        or _DISCARD_CLASS.search(kind)
        or "Figure" in (element.get("data-component") or "")
    )


def _byline_rank(element: HtmlElement) -> int | None:
    """How surely an element holds the byline: 0 (rel="author"…) to 2 (class "writer"…)."""
    tag, get = element.tag, element.get
    kind, ident, prop = get("class") or "", get("id") or "", get("itemprop") or ""
    if tag == "author" or (
        tag in ("a", "address", "div", "link", "p", "span", "strong")
        and (
            get("rel") == "author"
            or "author" in (ident, kind)
            or prop == "author name"
            or get("data-testid") in ("AuthorCard", "AuthorURL")
            or _NAME_CLASS.search(kind)
        )
    ):
        return 0
    if tag in ("a", "div", "h3", "h4", "p", "span") and (
        kind in ("byline", "username", "byl", "BBL")
        or "author" in prop
        or _BYLINE_ID.search(ident)
        or _BYLINE_CLASS.search(kind)
    ):
        return 1
    if (
        "Byline" in (get("data-component") or "")
        or "author" in prop
        or _ANY_ID.search(ident)
        or _ANY_CLASS.search(kind)
    ):
        return 2
    return None


def _visible_text(element: HtmlElement) -> str:
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and not _discarded(child):
            parts.append(_visible_text(child))
        parts.append(child.tail or "")
    return " ".join(parts)


def _hidden(element: HtmlElement, tree: HtmlElement) -> bool:
    """Whether the element, or one around it inside `tree`, is never part of a byline."""
    if _discarded(element):
        return True
    if element is not tree:
        for ancestor in element.iterancestors():
            if _discarded(ancestor):
                return True
            if ancestor is tree:
                break
    return False


def _shown(tree: HtmlElement) -> str | None:
    """The byline as the page shows it: the first element of the surest rank whose text
    (without dates, figures or comments) has 3 to 119 characters.

    trafilatura's own search, in one pass (its XPath regular expressions cost 4 ms a page);
    we read the raw text, which its clean-up shortens: "Le360 avec Belga" became "Le".
    """
    found: dict[int, str] = {}
    for element in tree.iter(etree.Element):  # in document order, as a reader meets them
        # Most elements have none of what _byline_rank looks for: a quick look skips them.
        get = element.get
        kind, ident = get("class"), get("id")
        if not (
            (kind is not None and _MAY_RANK_CLASS.search(kind))
            or (ident is not None and _MAY_RANK_ID.search(ident))
            or get("itemprop") is not None
            or get("rel") is not None
            or get("data-testid") is not None
            or get("data-component") is not None
            or element.tag == "author"
        ):
            continue
        rank = _byline_rank(element)
        if rank is None or rank in found or _hidden(element, tree):
            continue  # a hidden element's subtree is no byline either: see _hidden
        text = " ".join(_visible_text(element).split())
        if 2 < len(text) < 120:
            if rank == 0:
                return text
            found[rank] = text
    return found[min(found)] if found else None


def page_authors(
    tree: HtmlElement,
    url: str,
    *,
    guess: str | None = None,
    feed_author: str | None = None,
    site_names: Iterable[str | None] = (),
    json_ld: Iterable[str] | None = None,
) -> tuple[str, ...]:
    """The article's authors, from the first source that names someone: the people the page
    declares (JSON-LD and meta tags), its visible byline (preferred when it names every
    declared author and more), the agency it declares as author, `guess` (trafilatura's,
    used only where the page has no byline at all), and last the feed's author.

    `json_ld`: the texts of the page's JSON-LD scripts (tree.xpath(JSON_LD)), if already read.
    """
    nodes = _json_ld_nodes(tree.xpath(JSON_LD) if json_ld is None else json_ld)
    people, organisations = _json_ld_authors(nodes)
    # A lone word in a meta tag is mostly a user or site code ("admin", "KWCHCIK", "gto").
    meta, site_meta = _meta(tree)
    meta_names = [raw for raw in meta if " " in raw or _key(raw) in AGENCIES]
    outlets = _outlet_keys(
        [name for name in site_names if name]
        + [*_site_labels(url), *_publishers(site_meta, nodes)]
        + [name for name in organisations if _key(name) not in AGENCIES]
    )
    shown_raw = _shown(tree)
    shown = names(shown_raw, outlets)
    declared = _unique([name for raw in people for name in names(raw, outlets)])
    from_meta = _unique([name for raw in meta_names for name in names(raw, outlets)])
    # Meta tags add to JSON-LD only names the byline shows: they may name the publisher.
    confirmed = {_name_key(name) for name in shown}
    declared = _unique(
        declared + [name for name in from_meta if not declared or _name_key(name) in confirmed]
    )
    if declared and len(_unique(declared + shown)) == len(shown) > len(declared):
        return tuple(shown)  # the page shows every declared author, and co-authors
    found = declared or shown or [name for raw in organisations for name in names(raw, outlets)]
    if not found and not (people or meta or organisations or shown_raw):
        found = names(guess, outlets)
    return tuple(found or names(feed_author, outlets))
