"""Story storage on SQLite and PostgreSQL: copies and reports of one event join one story."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import combinations

from sqlalchemy import select

from bench.story_eval import generate
from crawler import items, placement
from crawler.dedupe import content_hash
from crawler.fingerprints import fingerprint
from crawler.placement import Outcome
from crawler.sources import Source
from crawler.storage import articles, stories
from crawler.storage.engine import sessions
from crawler.storage.feed import FeedFilter, iter_feed
from crawler.storage.models.stories import EvidenceCount
from crawler.storage.sources import sync_sources

T0 = datetime(2026, 11, 10, 12, tzinfo=UTC)
WIRE = [
    "Une opération menée simultanément en Belgique et au Maroc a permis de démanteler un "
    "réseau soupçonné d'avoir importé plusieurs tonnes de cocaïne par le port d'Anvers, a "
    "annoncé lundi le parquet fédéral. Quatorze personnes ont été interpellées.",
    "L'enquête a été conduite par la police judiciaire fédérale d'Anvers en étroite "
    "collaboration avec la Direction générale de la sûreté nationale (DGSN) et la DGST.",
    "Les enquêteurs ont saisi des armes, plus de 900 000 euros en espèces, des véhicules de "
    "luxe ainsi que plusieurs téléphones cryptés. Des comptes bancaires ont été gelés.",
    "Le procureur Julien Moinil dirige l'enquête avec le juge Karim Haddaoui depuis "
    "dix-huit mois. Les suspects arrêtés au Maroc seront jugés sur place.",
]
GERMAN = (
    "Belgische und marokkanische Ermittler haben ein Kokain-Netzwerk zerschlagen. Nach "
    "Angaben von Staatsanwalt Julien Moinil wurden vierzehn Menschen festgenommen. An den "
    "Ermittlungen waren die DGSN und die DGST beteiligt. Sichergestellt wurden Waffen und "
    "900.000 Euro Bargeld; Untersuchungsrichter Karim Haddaoui ordnete Haft an."
)
TEXT = "\n\n".join(WIRE)
OTHER = (
    "Le tribunal de Gand a condamné mardi l'homme d'affaires Pieter Goossens à six ans de "
    "prison pour fraude. La société Scheldt Cargo devra verser 2 400 000 euros au fisc, a "
    "décidé la juge Anne Verbeke. L'OCAM n'était pas concernée. La défense fera appel."
)


ELSEWHERE = (
    "Les pompiers de Liège ont maîtrisé jeudi soir un incendie dans un entrepôt de "
    "meubles du quartier de Droixhe. Aucun blessé n'est à déplorer, selon le commandant "
    "Marc Lhoest. La circulation reste interdite rue Ernest Solvay jusqu'à vendredi midi."
)


def make(url: str, text: str, *, when: datetime = T0, language: str = "fr", title: str = "t"):
    """An article as extraction hands it over: hashed and fingerprinted (no cited links)."""
    return items.Article(
        source="wire",
        url=url,
        link_key=url,
        title=title,
        author=None,
        published_at=when,
        language=language,
        text=text,
        lead=None,
        site_name=None,
        image_url=None,
        content_hash=content_hash(text),
        fetched_at=when,
        fingerprint=fingerprint(text),
    )


def setup(engine):
    factory = sessions(engine)
    with factory() as session:
        ids = sync_sources(session, [Source("wire", "feed", ("https://w.example/rss",))])
    return factory, ids["wire"]


def test_a_trimmed_copy_with_its_own_boilerplate_is_a_near_duplicate(engine):
    factory, source = setup(engine)
    copy = "(Belga)\n\n" + "\n\n".join(WIRE[:-1]) + "\n\nLire aussi : la sécurité des ports"
    with factory() as session:
        first = placement.add_article(session, source, make("https://a.example/1", TEXT))
        second = placement.add_article(
            session, source, make("https://b.example/2", copy, title="x")
        )
        stored, _ = articles.get_article(session, second.article_id)
    assert second.outcome is Outcome.DUPLICATE_TEXT
    assert second.story_id == first.story_id
    assert stored.duplicate_of_id == first.article_id
    assert stored.story_reason.startswith(f"near-duplicate of #{first.article_id} (")


def test_a_translation_joins_the_story_and_says_why(engine):
    factory, source = setup(engine)
    with factory() as session:
        first = placement.add_article(session, source, make("https://a.example/1", TEXT))
        german = placement.add_article(
            session,
            source,
            make("https://c.example/3", GERMAN, when=T0 + timedelta(hours=5), language="de"),
        )
        stored, _ = articles.get_article(session, german.article_id)
        counts = dict(session.execute(select(EvidenceCount.key, EvidenceCount.stories)).all())
    assert german.outcome is Outcome.NEW and german.story_id == first.story_id
    assert stored.duplicate_of_id is None
    assert stored.story_reason.startswith("shares ") and "Julien Moinil" in stored.story_reason
    assert f"with #{first.article_id}" in stored.story_reason
    # a name the story already had is not counted as a second story carrying it (and a
    # key of one story has no count at all: one story makes no word common)
    assert "pair:julien moinil" not in counts and "num:900000" not in counts


def test_a_key_is_counted_once_another_story_carries_it(engine):
    factory, source = setup(engine)
    other = OTHER + " Le procureur Julien Moinil n'a pas souhaité commenter."
    with factory() as session:
        first = placement.add_article(session, source, make("https://a.example/1", TEXT))
        second = placement.add_article(
            session, source, make("https://d.example/4", other, when=T0 + timedelta(hours=2))
        )
        spread = stories.archive_spread(session, ["pair:julien moinil", "pair:pieter goossens"])
    assert first.story_id != second.story_id
    assert spread == {"pair:julien moinil": 2}


def test_other_events_and_old_news_stay_apart(engine):
    factory, source = setup(engine)
    with factory() as session:
        first = placement.add_article(session, source, make("https://a.example/1", TEXT))
        other = placement.add_article(session, source, make("https://d.example/4", OTHER))
        late = placement.add_article(
            session,
            source,
            make("https://c.example/5", GERMAN, when=T0 + timedelta(days=5), language="de"),
        )
    assert len({first.story_id, other.story_id, late.story_id}) == 3


def test_stories_are_listed_with_size_outlets_and_languages(engine):
    factory, source = setup(engine)
    with factory() as session:
        first = placement.add_article(session, source, make("https://a.example/1", TEXT))
        placement.add_article(
            session,
            source,
            make("https://c.example/3", GERMAN, when=T0 + timedelta(hours=5), language="de"),
        )
        placement.add_article(session, source, make("https://d.example/4", OTHER))
        listed = stories.list_stories(session)
        big = stories.list_stories(session, min_articles=2)
        members = stories.members(session, first.story_id)
        collapsed = list(iter_feed(session, FeedFilter(per_story=True)))
        german_only = list(iter_feed(session, FeedFilter(languages=("de",), per_story=True)))
    assert [story.articles for story in listed] == [2, 1]  # the latest activity first
    assert [story.id for story in big] == [first.story_id]
    assert big[0].languages == ("de", "fr") and big[0].outlets == 1
    assert big[0].first_seen == T0
    assert [member.reason.split()[0] for member in members] == ["first", "shares"]
    assert len(collapsed) == 2  # one line per story
    assert [item.language for item in german_only] == ["de"]  # filters come first


def test_stories_are_listed_by_their_latest_article_not_by_their_id(engine):
    # Ids follow storage order: here old news is stored after fresh news, an undated
    # article counts from when it was fetched, and an old story gains a late copy.
    factory, source = setup(engine)
    copy = "(Belga)\n\n" + "\n\n".join(WIRE[:-1])
    undated = replace(
        make("https://e.example/5", ELSEWHERE, when=T0 + timedelta(hours=1)), published_at=None
    )
    with factory() as session:
        wire = placement.add_article(session, source, make("https://a.example/1", TEXT))
        old = placement.add_article(
            session, source, make("https://d.example/4", OTHER, when=T0 - timedelta(days=2))
        )
        fresh = placement.add_article(session, source, undated)
        late = placement.add_article(
            session, source, make("https://b.example/2", copy, when=T0 + timedelta(hours=3))
        )
        listed = stories.list_stories(session)
    assert wire.story_id < old.story_id < fresh.story_id and late.story_id == wire.story_id
    assert [story.id for story in listed] == [wire.story_id, fresh.story_id, old.story_id], (
        "stories must be sorted by their newest article's date (published, else fetched)"
    )
    dates = {story.id: (story.first_seen, story.last_active) for story in listed}
    assert dates[wire.story_id] == (T0, T0 + timedelta(hours=3))
    assert dates[fresh.story_id] == (T0 + timedelta(hours=1), T0 + timedelta(hours=1))
    assert dates[old.story_id] == (T0 - timedelta(days=2), T0 - timedelta(days=2))


def test_the_generated_evaluation_set_stays_above_its_floor(engine):
    # A quality gate like trafilatura's: bench/stories.py prints the full figures.
    factory, _ = setup(engine)
    labelled = generate(seed=11, events=15)
    with factory() as session:
        ids = sync_sources(
            session,
            [Source(o, "feed", (f"https://{o}.example/",)) for o in {a.outlet for a in labelled}],
        )
        placed = []
        for number, article in enumerate(labelled):
            url = f"https://{article.outlet}.example/{number}"
            found = make(url, article.text, when=article.published_at, language=article.language)
            placed.append(placement.add_article(session, ids[article.outlet], found).story_id)
    pairs = list(combinations(range(len(labelled)), 2))
    grouped = [(a, b) for a, b in pairs if placed[a] == placed[b]]
    right = [(a, b) for a, b in grouped if labelled[a].story == labelled[b].story]
    assert len(right) / len(grouped) >= 0.95, [
        (labelled[a].story, labelled[b].story) for a, b in set(grouped) - set(right)
    ]
    copies = [(a, b) for a, b in pairs if labelled[a].copies == labelled[b].copies]
    assert sum(placed[a] == placed[b] for a, b in copies) == len(copies)


def test_an_article_within_half_a_cell_is_indexed_in_the_cell_a_lookup_asks():
    # Any two moments up to CELL / 2 apart: the later's own cell is one of the earlier's
    # two cells, and the other way round.
    step = stories.CELL / 37
    for offset in range(200):
        moment = T0 + step * offset
        for apart in (timedelta(0), stories.CELL / 2, stories.CELL / 3, timedelta(seconds=1)):
            for other in (moment - apart, moment + apart):
                assert stories.time_cells(moment)[0] in stories.time_cells(other), (moment, other)
