"""A labelled story evaluation set, generated: wire copies, own write-ups, translations, lookalikes.

Events of three kinds (a police operation, a ministerial visit, a court verdict) are told from
templates written for this set (bench/story_templates.toml) in English, French, Dutch, German
and, for two kinds, Arabic. Each event gets:

- a wire text, and up to three syndicated copies of it: another headline, boilerplate lines
  added (read-also, copyright, photo credit, a caption mid-text), the last one or two
  paragraphs cut, a sentence rewritten, up to five words edited — labelled copies of the wire
  (near-duplicates) and members of the event's story;
- write-ups of the same facts in other words, in the wire's language or another one, and
  translations of the wire — members of the story, not copies;
- neighbours: other events of the same kind in the same days, drawing names from small pools
  (the same few ministers, prosecutors and cities recur), told with the same templates — they
  must stay apart.

The demo site's hand-written articles (newswatch/demo/data) are a second, smaller set,
labelled by hand in DEMO_STORIES.
"""

from __future__ import annotations

import random
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from newswatch.demo.catalog import OUTLETS, load_articles

TEMPLATES = Path(__file__).with_name("story_templates.toml")
LANGUAGES = ("en", "fr", "nl", "de")
START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)

MINISTERS = ("Hélène Dumortier", "Pieter Goossens", "Karim Ouazzani", "Anja Hoffmann")
PROSECUTORS = ("Els De Smet", "Olivier Renard", "Stefan Brandt", "Nadia El Khattabi", "Luc Lambert")
HEADS = ("Youssef Haddaoui", "Martine Claes", "Rachid Benali", "Katrin Weber")
PEOPLE = (
    "Sofia Amrani",
    "Jan Peeters",
    "Lotte Verbeke",
    "Thomas Keller",
    "Sarah Janssens",
    "Mehdi Tazi",
    "Ingrid Maes",
    "Fatima Zahraoui",
    "Omar Lahlou",
    "Bart Wouters",
    "Julie Lefèvre",
    "Ahmed Cherkaoui",
    "Hans Mertens",
    "Samira Idrissi",
    "Vincent Leroy",
    "Claire Dumont",
    "Hicham Belkadi",
    "Marc Vandenberghe",
)
ORGS = ("DGSN", "DGST", "OCAM", "FGP", "BKA", "OFAST", "PJF", "CTIF")
COMPANIES = (
    "Ostara Logistics",
    "Vandermeulen Shipping",
    "Atlas Freight",
    "Noordkaap Trading",
    "Medina Import",
    "Scheldt Cargo",
    "Rif Transport",
    "Delta Containers",
)
# The city's name in en, fr, nl, de, ar
CITIES = (
    ("Antwerp", "Anvers", "Antwerpen", "Antwerpen", "أنتويرب"),
    ("Brussels", "Bruxelles", "Brussel", "Brüssel", "بروكسيل"),
    ("Tangier", "Tanger", "Tanger", "Tanger", "طنجة"),
    ("Rabat", "Rabat", "Rabat", "Rabat", "الرباط"),
    ("Rotterdam", "Rotterdam", "Rotterdam", "Rotterdam", "روتردام"),
    ("Liège", "Liège", "Luik", "Lüttich", "لييج"),
    ("Casablanca", "Casablanca", "Casablanca", "Casablanca", "الدار البيضاء"),
    ("Hamburg", "Hambourg", "Hamburg", "Hamburg", "هامبورغ"),
    ("Ghent", "Gand", "Gent", "Gent", "غنت"),
)
WEEKDAYS = {
    "en": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split(),
    "fr": "lundi mardi mercredi jeudi vendredi samedi dimanche".split(),
    "nl": "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag".split(),
    "de": "Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag".split(),
    "ar": ["الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"],
}
THOUSANDS = {"en": ",", "fr": " ", "nl": ".", "de": ".", "ar": ""}
EDIT_WORDS = {"en": "also", "fr": "aussi", "nl": "ook", "de": "auch"}


@dataclass(frozen=True)
class EvalArticle:
    outlet: str
    language: str
    title: str
    text: str
    published_at: datetime
    story: str  # the label: articles of one event share it
    copies: str  # the label: a wire text and its syndicated copies share it
    role: str  # wire | copy | own | translation


def _amount(value: int, language: str) -> str:
    return f"{value:,}".replace(",", THOUSANDS[language])


def _facts(rng: random.Random, kind: str) -> dict:
    first, second = rng.sample(range(len(CITIES)), 2)
    if kind == "visit":
        p1, p2 = rng.choice(MINISTERS), rng.choice(HEADS)
    elif kind == "bust":
        p1, p2 = rng.choice(PROSECUTORS), rng.choice(PEOPLE)
    else:
        p1, p2 = rng.choice(PEOPLE), rng.choice(PEOPLE[:6])  # judges: a few recur
    counts = {"bust": (5, 48), "visit": (2, 12), "verdict": (3, 14)}[kind]
    return {
        "p1": p1,
        "p2": p2,
        "p1s": p1.split()[-1],
        "p2s": p2.split()[-1],
        "org": rng.choice(ORGS),
        "city_index": first,
        "city2_index": second,
        "n": rng.randint(*counts),
        "amount_value": rng.randrange(120, 9900) * 1000,
        "year": rng.randint(2027, 2031),
        "company": rng.choice(COMPANIES),
        "quote_parts": (rng.randrange(5), rng.randrange(5)),
    }


def _tell(
    templates: dict, kind: str, language: str, variant: str, facts: dict, day: int
) -> tuple[str, list[str]]:
    index = LANGUAGES.index(language) if language in LANGUAGES else 4
    quote = ""
    if language in LANGUAGES:
        opening, closing = facts["quote_parts"]
        quotes = templates["quotes"]
        quote = f"{quotes[language][opening]} {quotes[language + '_end'][closing]}"
    values = {
        **facts,
        "city": CITIES[facts["city_index"]][index],
        "city2": CITIES[facts["city2_index"]][index],
        "amount": _amount(facts["amount_value"], language),
        "day": WEEKDAYS[language][day],
        "quote": quote,
    }
    block = templates[kind][language][variant]
    return block["title"].format(**values), [p.format(**values) for p in block["body"]]


def _syndicate(
    rng: random.Random, paragraphs: list[str], language: str, boiler: list[str], fillers: list[str]
) -> list[str]:
    """A copy of the wire as another outlet runs it: trimmed, edited, with its own boilerplate."""
    kept = list(paragraphs)
    cut = rng.choices((0, 1, 2), weights=(5, 4, 1))[0]
    kept = kept[: max(3, len(kept) - cut)]
    if rng.random() < 0.3:  # a sentence rewritten by the desk
        at = rng.randrange(len(kept))
        kept[at] = kept[at].rsplit(". ", 1)[0] + ". " + rng.choice(fillers)
    if rng.random() < 0.3:  # a photo caption between paragraphs
        kept.insert(rng.randrange(1, len(kept)), boiler[2])
    for _ in range(rng.choice((0, 1, 2, 3, 4, 5))):
        at = rng.randrange(len(kept))
        words = kept[at].split()
        position = rng.randrange(1, len(words))
        if any(ch.isdigit() for word in words[position - 1 : position + 1] for ch in word):
            continue  # desks edit words, not the figures ("9 869 000" spans three words)
        if rng.random() < 0.5:
            del words[position]
        else:
            words.insert(position, EDIT_WORDS[language])
        kept[at] = " ".join(words)
    if rng.random() < 0.7:
        kept.insert(0, rng.choice(("(Belga)", "BRUSSELS —", "(ANP)", "(dpa)")))
    if rng.random() < 0.7:
        kept.extend(rng.sample(boiler, rng.choice((1, 2))))
    return kept


def _telling(
    rng: random.Random, templates: dict, event: dict, language: str, variant: str
) -> tuple[str, list[str]]:
    """A headline and paragraphs of the event: a template, then 0–2 filler paragraphs."""
    title, body = _tell(
        templates, event["kind"], language, variant, event["facts"], event["start"].weekday()
    )
    return title, body + rng.sample(templates["fillers"][language], rng.choice((0, 1, 2)))


def _event(rng: random.Random, templates: dict, number: int, days: int) -> list[EvalArticle]:
    kind = rng.choice(("bust", "visit", "verdict"))
    wire_language = rng.choices(LANGUAGES, weights=(5, 6, 5, 4))[0]
    event = {
        "kind": kind,
        "facts": _facts(rng, kind),
        "start": START + timedelta(minutes=rng.randrange(days * 24 * 60)),
    }
    story, start = f"{kind}-{number}", event["start"]
    title, wire = _telling(rng, templates, event, wire_language, "wire")
    found = [
        EvalArticle(
            f"wire-{wire_language}",
            wire_language,
            title,
            "\n\n".join(wire),
            start,
            story,
            story,
            "wire",
        )
    ]
    boiler, fillers = templates["boilerplate"][wire_language], templates["fillers"][wire_language]
    for copy in range(rng.choices((0, 1, 2, 3), weights=(2, 3, 3, 2))[0]):
        other_title, _ = _tell(
            templates, kind, wire_language, "own", event["facts"], start.weekday()
        )
        text = "\n\n".join(_syndicate(rng, wire, wire_language, boiler, fillers))
        when = start + timedelta(minutes=rng.randrange(5, 360))
        found.append(
            EvalArticle(
                f"{wire_language}-outlet-{copy}",
                wire_language,
                other_title,
                text,
                when,
                story,
                story,
                "copy",
            )
        )
    tellings = []
    if rng.random() < 0.3:
        tellings.append((wire_language, "own", "own", rng.randrange(60, 1440)))
    for language in LANGUAGES:
        if language != wire_language and rng.random() < 0.35:
            variant, role = rng.choice((("wire", "translation"), ("own", "own")))
            tellings.append((language, variant, role, rng.randrange(60, 1800)))
    if kind != "verdict" and rng.random() < 0.3:
        tellings.append(("ar", "own", "own", rng.randrange(60, 1800)))
    for language, variant, role, minutes in tellings:
        title, body = _telling(rng, templates, event, language, variant)
        found.append(
            EvalArticle(
                f"{language}-own",
                language,
                title,
                "\n\n".join(body),
                start + timedelta(minutes=minutes),
                story,
                f"{story}-{language}-{variant}",
                role,
            )
        )
    return found


def generate(seed: int = 7, events: int = 60, days: int = 14) -> list[EvalArticle]:
    """The labelled set, in publication order."""
    templates = tomllib.loads(TEMPLATES.read_text(encoding="utf-8"))
    rng = random.Random(seed)
    found = [article for n in range(events) for article in _event(rng, templates, n, days)]
    return sorted(found, key=lambda article: article.published_at)


# Hand labels for the demo site's articles: slug → story. Unlisted articles stand alone.
DEMO_STORIES = {
    "action-plan": (
        "belgium-and-morocco-sign-security-action-plan-in-rabat",
        "quintin-et-verlinden-a-rabat-un-plan-d-action-contre-le-narcotrafic",
        "verlinden-na-bezoek-aan-marokko-uitleveringen-moeten-sneller",
        "belgien-und-marokko-vereinbaren-aktionsplan-gegen-drogenbanden",
        "hammouchi-recoit-une-delegation-belge-de-haut-niveau-a-rabat",
        "hespress:2026-11-03",
    ),
    "liaison-officer": (
        "moroccan-liaison-officer-to-join-antwerp-port-task-force",
        "antwerpse-haven-krijgt-eerste-marokkaanse-verbindingsofficier",
        "cooperation-securitaire-le-maroc-et-la-belgique-installent-des-officiers-de-liaison",
        "hespress:2026-11-16",
    ),
    "cocaine-network": (
        "coup-de-filet-entre-anvers-et-tanger-quatorze-arrestations",
        "trafic-de-cocaine-la-dgsn-et-la-police-belge-demantelent-un-reseau",
        "hespress:2026-11-10",
    ),
}


def demo_set() -> list[EvalArticle]:
    """The demo site's public articles, labelled by hand (the two wire copies are copies)."""
    labels = {slug: story for story, slugs in DEMO_STORIES.items() for slug in slugs}
    found = []
    for outlet, articles in load_articles(OUTLETS).items():
        for article in articles:
            if "/private/" in article.path:
                continue
            slug = article.path.rsplit("/", 1)[-1].removesuffix(".html")
            key = slug if slug else f"{outlet}:{article.published:%Y-%m-%d}"
            key = f"{outlet}:{article.published:%Y-%m-%d}" if outlet == "hespress" else key
            story = labels.get(key, key)
            copies = "cocaine-wire" if article.author.endswith("Belga") else key
            found.append(
                EvalArticle(
                    outlet,
                    article.language,
                    article.title,
                    article.body,
                    article.published.astimezone(UTC),
                    story,
                    copies,
                    "copy" if copies == "cocaine-wire" else "own",
                )
            )
    return sorted(found, key=lambda article: article.published_at)
