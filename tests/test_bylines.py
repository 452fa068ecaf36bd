"""Tests for crawler.bylines: who wrote an article, from bylines, small pages and real ones."""

from __future__ import annotations

import contextlib
import json
import re

import pytest
from trafilatura.utils import load_html

from bench.corpus import corpus_dir, corpus_pages
from crawler.bylines import JSON_LD, names, page_authors
from crawler.extract import ExtractionError, decode_html, extract_article
from crawler.items import FeedHints
from tests.test_extract import FRENCH, page

LE_SOIR = frozenset({"lesoir"})  # what the outlet keys of https://www.lesoir.be/ hold


@pytest.mark.parametrize(
    ("byline", "expected"),
    [
        ("Jan Peeters avec Belga", ["Jan Peeters"]),
        ("Von Hans Müller, mit dpa", ["Hans Müller"]),
        ("Door Jan Peeters met ANP", ["Jan Peeters"]),
        ("By Jane Doe with Reuters", ["Jane Doe"]),
        ("Anne Dupont (AFP)", ["Anne Dupont"]),
        ("LISA MASCARO and ERIC TUCKER Associated Press", ["Lisa Mascaro", "Eric Tucker"]),
        ("La rédaction avec AFP", ["AFP"]),  # no person named: the agency is the byline
        ("Par Anne Dupont", ["Anne Dupont"]),
        ("Texte: Anne Dupont, photos: Jan Peeters", ["Anne Dupont"]),
        ("Текст: Лида Буслаева", ["Лида Буслаева"]),
        ("Analysis by Chris Cillizza, CNN Editor-at-large", ["Chris Cillizza"]),
        ("Rédaction", []),
        ("Redaktion", []),
        ("Staff Reports", []),
        ("Anne Dupont et Jan Peeters", ["Anne Dupont", "Jan Peeters"]),
        ("Von Anna Müller und Jörg Schäfer", ["Anna Müller", "Jörg Schäfer"]),
        (
            "Anne Dupont, Jan Peeters et Marie Lambert",
            ["Anne Dupont", "Jan Peeters", "Marie Lambert"],
        ),
        ("Jan Peeters, 12/03/2026 à 14h05", ["Jan Peeters"]),
        ("Karim Haddaoui - Mis à jour le 12/03/2026", ["Karim Haddaoui"]),
        ("Jeff Foust Monday, November 18, 2019", ["Jeff Foust"]),
        ("Anne Dupont anne.dupont@lesoir.be", ["Anne Dupont"]),
        ("Publié le 12 mars 2026 par Anne Dupont", ["Anne Dupont"]),
        ("Paul Takahashi, Staff writer", ["Paul Takahashi"]),
        ("Ilana Muhlstein, MS, RDN", ["Ilana Muhlstein"]),
        ("Troy Smith, Troy L. Smith", ["Troy Smith"]),
    ],
)
def test_a_byline_names_its_people_without_what_surrounds_them(byline, expected):
    assert names(byline, LE_SOIR) == expected


@pytest.mark.parametrize(
    "name",
    [
        "Theresa May",
        "April Ryan",
        "Jan Peeters",
        "Michael Bloomberg",
        "Piet de Vries",
        "Di Maria",
        "Jean-Luc Dehaene",
        "Sarah E. Needleman",
        "Regan",
    ],
)
def test_names_that_look_like_dates_agencies_or_prefixes_are_kept(name):
    assert names(name, LE_SOIR) == [name]


def test_the_outlet_named_as_author_is_not_a_person():
    assert names("Le Soir", LE_SOIR) == []
    assert names("Anne Dupont - Le Soir", LE_SOIR) == ["Anne Dupont"]
    assert names("Le Soir Sport", LE_SOIR) == []


# --- small pages, as the crawler's loopback tests serve them ------------------------------------


def article(byline: str = "", head: str = "") -> str:
    """A French article page with this visible byline and these head tags."""
    shown = f"<p class='byline'>{byline}</p>" if byline else ""
    return page([shown + FRENCH[0], *FRENCH[1:]], head=head, title="Réforme des retraites")


def json_ld(data: dict) -> str:
    return f"<script type='application/ld+json'>{json.dumps(data)}</script>"


def author_of(html: str, url: str = "https://www.lesoir.be/1/article", **hints: str) -> str | None:
    return extract_article(html, url, FeedHints(**hints)).author


def test_an_outlet_with_an_agency_credits_the_agency_not_a_truncated_name():
    html = article("Le360 avec Belga", head="<meta property='og:site_name' content='Le360'>")
    assert author_of(html, "https://fr.le360.ma/monde/reforme-123") == "Belga"  # was "Le"


@pytest.mark.parametrize(
    ("byline", "expected"),
    [
        ("Par Anne Dupont, le 12/03/2026 à 14h05", "Anne Dupont"),
        ("Von Hans Müller, mit dpa", "Hans Müller"),
        ("Door Jan Peeters met ANP", "Jan Peeters"),
        ("Texte : Anne Dupont", "Anne Dupont"),
        ("Rédaction", None),
        ("Anne Dupont et Jan Peeters", "Anne Dupont, Jan Peeters"),
    ],
)
def test_the_visible_byline_is_cleaned(byline, expected):
    assert author_of(article(byline)) == expected


def test_an_arabic_byline_keeps_the_agency_after_the_outlet():
    html = article("هسبريس و و.م.ع", head="<meta property='og:site_name' content='هسبريس'>")
    assert author_of(html, "https://www.hespress.com/politique/1.html") == "و.م.ع"


def test_the_outlet_given_as_meta_author_gives_way_to_the_byline():
    head = "<meta property='og:site_name' content='Le Soir'><meta name='author' content='Le Soir'>"
    assert author_of(article("Jan Peeters", head=head)) == "Jan Peeters"


def test_json_ld_people_beat_a_meta_author_naming_the_publisher():
    head = "<meta name='author' content='Rossel Group'>" + json_ld(
        {"@type": "NewsArticle", "author": [{"@type": "Person", "name": "Anne Dupont"}]}
    )
    assert author_of(article(head=head)) == "Anne Dupont"


def test_json_ld_author_by_reference_is_resolved():
    graph = {
        "@graph": [
            {"@type": "Article", "@id": "#a", "author": {"@id": "https://www.lesoir.be/#/p/7"}},
            {"@type": "Person", "@id": "https://www.lesoir.be/#/p/7", "name": "Marie Lambert"},
        ]
    }
    assert author_of(article(head=json_ld(graph))) == "Marie Lambert"


def test_a_byline_naming_more_people_than_json_ld_wins():
    head = json_ld({"@type": "NewsArticle", "author": {"@type": "Person", "name": "Anne Dupont"}})
    html = article("Par Anne Dupont et Jan Peeters", head=head)
    assert author_of(html) == "Anne Dupont, Jan Peeters"


def test_an_organisation_as_json_ld_author_is_not_a_person_unless_an_agency():
    outlet = {"@type": "NewsArticle", "author": {"@type": "Organization", "name": "Le Soir"}}
    assert author_of(article(head=json_ld(outlet))) is None
    wire = {"@type": "NewsArticle", "author": {"@type": "Organization", "name": "Belga"}}
    assert author_of(article(head=json_ld(wire))) == "Belga"


def test_the_feed_author_is_cleaned_and_fills_a_page_without_one():
    assert author_of(article(), author="Par Jan Peeters") == "Jan Peeters"
    assert author_of(article("Rédaction"), author="Jan Peeters (Belga)") == "Jan Peeters"


def test_page_authors_reads_a_parsed_tree():
    tree = load_html(article("By Jane Doe | The Brussels Times"))
    found = page_authors(tree, "https://www.brusselstimes.com/1", site_names=["Brussels Times"])
    assert found == ("Jane Doe",)


def test_a_byline_inside_comments_or_a_sidebar_is_skipped_for_the_one_shown_later():
    html = page(
        FRENCH,
        html_attrs='lang="fr"',
        title="<div class='comments'><span class='author'>Paul Lecteur</span></div>"
        "<aside class='sidebar'><p class='byline'>Par Marie Voisine</p></aside>"
        "<div><span class='writer'>Jan Peeters</span><span class='byline'>Par Anne Dupont</span>"
        "<a rel='author' href='/anne'>Anne Dupont</a></div>",
    )
    assert page_authors(load_html(html), "https://www.lesoir.be/1") == ("Anne Dupont",)


def test_json_ld_already_read_gives_the_same_authors():
    head = json_ld({"@type": "NewsArticle", "author": {"@type": "Person", "name": "Anne Dupont"}})
    tree = load_html(article("Par Anne Dupont et Jan Peeters", head=head))
    blocks = tree.xpath(JSON_LD)
    read = page_authors(tree, "https://www.lesoir.be/1", json_ld=blocks)
    assert read == page_authors(tree, "https://www.lesoir.be/1") == ("Anne Dupont", "Jan Peeters")


# --- real pages from the shared corpus -------------------------------------------------------

AEB = corpus_dir()
# Each page shows a case; the comment gives its byline as the page or trafilatura wrote it.
REAL = {
    "82b6d780c792df78": "Lisa Mascaro, Mary Clare Jalonick, Eric Tucker",  # "… Associated Press"
    "a6968f427cdb7865": "Meg Kinnard, Errin Haines",  # "…, Associated Press"
    "aec5deeaada8b2fb": "Steve Peoples",  # "By STEVE PEOPLES, AP National Political Writer"
    "3c6d3381ef52ca26": "Венера Ерофеева",  # "Текст: Венера Ерофеева"
    "ef4e67b66d63b5fa": "Chris Cillizza",  # "Analysis by Chris Cillizza, CNN Editor-at-large"
    "9ebb3af65694a953": "Paul Takahashi",  # "By Paul Takahashi, Staff writer"
    "7a457a4f71735c17": "Phil Helsel",  # "Phil Helsel is a reporter for NBC News."
    "34a7328535ad4e60": None,  # "LinkNaija", on linknaija.com
    "88c328b68b038a62": None,  # "Telegraph Sport"
    "d605bdef2cde7308": "Jill Disis",  # "Jill Disis, CNN Business"
    "f81c6c05d9cbc933": "Tanza Loudenback",  # "Tanza Loudenback, Business Insider"
    "961bd85ca85aaf79": None,  # "Staff Reports"
    "5fa3154ec031ab35": None,  # "Editorial"
    "33fe2471fd553c65": None,  # "admin"
    "c00962aabe7bdd1f": "Jeff Foust",  # "by Jeff Foust Monday, November 18, 2019"
    "65bf3048b500bbd8": "Mike Wuerthele, Malcolm Owen",  # "… Monday, November 18, 2019, …"
    "c13b9c0e04fb28d4": "Megan Rowe",  # "By Megan Rowe meganr@spokesman.com (509) 459-5382"
    "2f42ef1d3ea0c96e": "Molly Wood",  # "Condé Nast, Molly Wood": meta author is the publisher
    "042bb7b5fedab6ea": "Sarah E. Needleman",  # "Sarah E Needleman"
    "e593d7fe88f9f5cd": "Rachael Link",  # None: only JSON-LD names her
    "7a664e40d256470f": "Stefan Becket, Kathryn Watson, Grace Segers",  # JSON-LD: the first
    "a1fca19b884e0e94": "Lia Eustachewich, Yaron Steinbuch",
}


@pytest.fixture(scope="module")
def corpus() -> dict[str, tuple[str, str]]:
    pages = corpus_pages(AEB)
    if not pages:
        pytest.skip(f"extraction corpus not found at {AEB} (set NEWSWATCH_CORPUS to its parent)")
    return {p.id: (p.url, decode_html(p.html, p.encoding)) for p in pages}


@pytest.mark.parametrize(("page_id", "expected"), REAL.items(), ids=list(REAL))
def test_real_page_byline(corpus, page_id, expected):
    url, html = corpus[page_id]
    assert extract_article(html, url).author == expected, url


def test_no_real_page_stores_a_prefix_date_address_or_desk_as_author(corpus):
    wrong = re.compile(r"\d|@|^(?:by|par|von|door|text)\b|\b(?:staff|admin)\b|\bwriter\b", re.I)
    bad = {}
    for page_id, (url, html) in corpus.items():
        with contextlib.suppress(ExtractionError):  # a page without article text has no author
            author = extract_article(html, url).author
            if author and wrong.search(author):
                bad[page_id] = author
    assert not bad, bad
