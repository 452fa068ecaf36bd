"""Full-text search: what the index is asked for each spelling, its SQL on both backends,
relevance order, and the index kept in step with the articles."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, text, update

from crawler.storage import feed, search
from crawler.storage.engine import sessions
from crawler.storage.feed import FeedFilter
from crawler.storage.models import Article
from crawler.storage.search import (
    AllOf,
    AnyOf,
    Ranked,
    SearchQuery,
    Spelled,
    fts5_expression,
    tsquery_expression,
)
from tests.alerts_fixtures import add_article


def test_a_word_is_asked_whole_and_cut_anywhere_in_fts5():
    asked = fts5_expression(Spelled(("mocromaffia",))).split(" OR ")
    assert asked[0] == '"mocromaffia"'
    # "Mocro-Maffia" and "Mo-cro-maffia" are adjacent tokens that start the word
    assert '"mocro maffia"' in asked and '"mo cro"' in asked
    assert len(asked) == 1 + 10 * 11 // 2  # the word, and every (first piece, second piece)


def test_prefixes_fields_and_combinations_in_fts5():
    asked = fts5_expression(Spelled(("aktions",), prefix=True, field="title"))
    assert asked.startswith('{title} : ("aktions"* OR ')
    assert '"aktion s"' not in asked  # a one-letter prefix would merge every s… token
    assert '"aktio ns"*' in asked and '"aktion"' in asked
    assert fts5_expression(Spelled(("x",), field="text")) == '{lead text} : ("x")'
    both = AllOf((Spelled(("a",)), AnyOf((Spelled(("b",)), Spelled(("c",))))))
    assert fts5_expression(both) == '("a") AND (("b") OR ("c"))'


def test_postgresql_ands_words_finds_compounds_by_prefix_and_asks_accents():
    asked = tsquery_expression(Spelled(("dgst", "rabat")))
    assert asked.startswith("( 'dgst' & ( 'rabat' | 'ràbat' | ")  # spaced, every word asked
    assert " | ( 'dgstrabat' | 'dgstràbat' | " in asked  # joined
    assert asked.endswith(
        " | 'd-':* | 'dg-':* | 'dgs-':* | 'dgst-':* | 'dgstr-':* | "
        "'dgstra-':* | 'dgstrab-':* | 'dgstraba-':*"
    )
    assert "<->" not in asked  # a phrase would rebuild every hit's tsvector to check it
    surete = tsquery_expression(Spelled(("surete",), prefix=True))
    assert "'sûreté':*" in surete and "'surete':*" in surete and "'sûrêtè':*" not in surete
    both = AllOf((Spelled(("x",)), AnyOf((Spelled(("b",)), Spelled(("d",))))))
    assert tsquery_expression(both) == "( 'x' ) & ( ( 'b' ) | ( 'd' ) )"


def test_hostile_words_reach_neither_index_as_syntax():
    hostile = Spelled(('x"', "NEAR(a", "b)", "'", ":*", "drop_table;--"))
    fts, tsq = fts5_expression(hostile), tsquery_expression(hostile)
    # only letters and digits, quoted, reach either: FTS5 phrases, PostgreSQL lexemes
    assert fts.startswith('"xNEARabdroptable" OR "x N" OR "x NE" OR ')
    assert set(fts) <= set('"*ORxNEARabdroptable ')
    assert tsq.startswith("( 'x' & ( 'near' | 'néar' | ")  # lower-cased, as lexemes are
    assert " & 'b' & " in tsq and tsq.endswith(" | 'xnearabdroptabl-':*")
    assert set(tsq) - set("xnearbdoptl") <= set("'&|()*:- àâäéèêëôöîïñ")


def found(engine, narrowing) -> set[str]:
    """Titles of the articles the index narrows to (candidates, before any matcher)."""
    with sessions(engine)() as session:
        where = FeedFilter(search=SearchQuery("", narrowing), searching=True)
        return {item.title for item in feed.feed_page(session, where, limit=100).items}


@pytest.fixture
def archive(engine):
    add_article(engine, "Mocro-Maffia in Antwerpen", "Razzia tegen de Mocro-Maffia.")
    add_article(engine, "Mocro Maffia again", "Spaced spelling of the gang's name.")
    add_article(engine, "Joined", "De mocromaffia en de e-mail van de DGST.")
    add_article(
        engine,
        "Aktions\u00adplan unterzeichnet",
        "Der Plan gegen Drogenhandel.",
        source="tagesschau",
        language="de",
    )
    add_article(
        engine,
        "Hauptstraße gesperrt",
        "Die Polizei sperrt die Straße.",
        source="tagesschau",
        language="de",
    )
    add_article(
        engine,
        "Rabat et Bruxelles",
        "La DGST et la Sûreté de l'État coopèrent.",
        source="le-soir",
        language="fr",
    )
    add_article(
        engine, "Le cœur du dossier", "Au cœur de l'enquête.", source="le-soir", language="fr"
    )
    add_article(
        engine, "تعاون أمني", "وقع المغرب وبلجيكا خطة عمل مشتركة", source="hespress", language="ar"
    )
    return engine


def test_every_spelling_the_rules_accept_is_a_candidate(archive):
    sqlite = archive.dialect.name == "sqlite"
    # A candidate may not match ("Mocro Maffia" is no spelling of "mocromaffia" for the
    # rules; FTS5 asks the pair "mocro maffia" as a cut word); the matcher decides. No
    # spelling that matches may be missing.
    mocro = {"Mocro-Maffia in Antwerpen", "Joined"}
    spaced = {"Mocro Maffia again"}
    assert found(archive, Spelled(("mocromaffia",))) == mocro | (spaced if sqlite else set())
    assert found(archive, Spelled(("mocro", "maffia"))) == mocro | spaced
    assert found(archive, Spelled(("mocro",), prefix=True)) == mocro | spaced
    assert found(archive, Spelled(("email",))) == {"Joined"}
    assert found(archive, Spelled(("surete",))) == {"Rabat et Bruxelles"}
    # 'e-':* asks PostgreSQL for any hyphenated word starting "e-": e-mail too
    assert found(archive, Spelled(("etat",))) == {"Rabat et Bruxelles"} | (
        set() if sqlite else {"Joined"}
    )
    assert found(archive, Spelled(("straße",))) == {"Hauptstraße gesperrt"}
    assert found(archive, Spelled(("cœur",))) == {"Le cœur du dossier"}
    assert found(archive, Spelled(("المغرب",))) == {"تعاون أمني"}
    # A soft hyphen cuts the word for both indexes; PostgreSQL's parser does not keep the
    # pieces whole as it keeps a hyphenated word, so only FTS5 sees "Aktions\u00adplan".
    soft = {"Aktions\u00adplan unterzeichnet"}
    assert found(archive, Spelled(("aktionsplan",))) == (soft if sqlite else set())
    # fields: FTS5 asks the column; PostgreSQL's single vector cannot (the matcher decides)
    titles = found(archive, Spelled(("dgst",), field="title"))
    assert titles == (set() if sqlite else {"Joined", "Rabat et Bruxelles"})
    assert found(archive, AllOf((Spelled(("dgst",)), Spelled(("email",))))) == {"Joined"}
    either = AnyOf((Spelled(("razzia",)), Spelled(("coeur",))))
    assert found(archive, either) == {"Mocro-Maffia in Antwerpen"}  # cœur only as typed
    assert found(archive, Spelled(("nowhere",))) == set()


def test_index_follows_inserts_updates_and_deletes(archive):
    with sessions(archive)() as session, session.begin():
        session.execute(
            update(Article)
            .where(Article.title == "Rabat et Bruxelles")
            .values(title="Rabat, Bruxelles et Tanger")
        )
        session.execute(delete(Article).where(Article.title == "Mocro Maffia again"))
    assert found(archive, Spelled(("tanger",))) == {"Rabat, Bruxelles et Tanger"}
    assert found(archive, Spelled(("spaced",))) == set()
    add_article(archive, "Eupen", "Nieuw artikel over Eupen.")
    assert "Eupen" in found(archive, Spelled(("eupen",)))


def test_relevance_puts_title_hits_first_and_pages_by_keyset(engine):
    filler = " ".join(["haven politie onderzoek stad"] * 60)
    body = add_article(engine, "Haven", f"{filler} Antwerpen {filler}")
    title = add_article(engine, "Antwerpen", "Kort bericht.")
    twice = add_article(engine, "Stad", f"Antwerpen {filler} Antwerpen")
    add_article(engine, "Elders", "Niets hier.")
    where = FeedFilter(search=SearchQuery("", Spelled(("antwerpen",))), searching=True)
    with sessions(engine)() as session:
        ranked = search.ranked_page(session, where, limit=10)
        assert ranked[0][0].id == title
        assert {item.id for item, _ in ranked} == {body, title, twice}
        keys = [place.key for _, place in ranked]
        assert keys == sorted(keys)  # lower keys first, on both backends
        paged, after = [], None
        while page := search.ranked_page(session, where, after, 1):
            paged += [item.id for item, _ in page]
            after = page[-1][1]
        assert paged == [item.id for item, _ in ranked]
        assert search.rank_keys(session, where.search, [title, body]) == {
            place.id: place.key for _, place in ranked if place.id in (title, body)
        }
        assert search.in_view(session, where, [title, body, twice + 1]) == {title, body}
        assert search.in_view(session, FeedFilter(languages=("fr",)), [title]) == set()


def test_a_ranked_cursor_round_trips_exactly(engine):
    add_article(engine, "Antwerpen", "Antwerpen.")
    add_article(engine, "Antwerpen haven", "Antwerpen en de haven.")
    where = FeedFilter(search=SearchQuery("", Spelled(("antwerpen",))), searching=True)
    with sessions(engine)() as session:
        first, second = search.ranked_page(session, where, limit=2)
        after = Ranked(float(repr(first[1].key)), first[1].id)
        assert [item.id for item, _ in search.ranked_page(session, where, after)] == [second[0].id]


def test_sqlite_search_folds_accents(sqlite_url):
    from crawler.storage.engine import open_engine

    engine = open_engine(sqlite_url)
    try:
        add_article(engine, "Sûreté", "La Sûreté de l'État.")
        assert found(engine, AllOf((Spelled(("surete",)), Spelled(("etat",))))) == {"Sûreté"}
    finally:
        engine.dispose()


def test_postgresql_search_uses_the_gin_index(postgres_url):
    from crawler.storage.engine import open_engine

    engine = open_engine(postgres_url)
    try:
        for number in range(3):
            add_article(engine, f"filler {number}", f"text number {number}")
        # the very condition the feed uses, so a drift from the index expression shows here
        query = SearchQuery("", Spelled(("mocro", "maffia"), prefix=True))
        statement = select(Article.id).where(search.matches("postgresql", query))
        compiled = statement.compile(engine, compile_kwargs={"literal_binds": True})
        with engine.connect() as connection:
            connection.execute(text("SET enable_seqscan = off"))
            plan = "\n".join(connection.execute(text(f"EXPLAIN {compiled}")).scalars())
        assert "ix_articles_search" in plan
    finally:
        engine.dispose()


def test_migration_0005_downgrades_and_rebuilds_the_index(engine):
    from alembic import command

    from crawler.storage.engine import alembic_config, migrate

    add_article(engine, "Before the index", "Stored while search did not exist.")
    command.downgrade(alembic_config(engine), "0005-1")
    with sessions(engine)() as session:
        tables = session.execute(
            text(
                "SELECT name FROM sqlite_master WHERE name LIKE 'articles_fts%'"
                if engine.dialect.name == "sqlite"
                else "SELECT indexname FROM pg_indexes WHERE indexname = 'ix_articles_search'"
            )
        ).all()
    assert tables == []
    migrate(engine)
    assert found(engine, Spelled(("stored", "while"))) == {"Before the index"}
