"""Full-text search: the search syntax, and the index kept in step on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, text, update

from crawler.storage import feed, search
from crawler.storage.engine import sessions
from crawler.storage.feed import FeedFilter
from crawler.storage.models import Article
from crawler.storage.search import (
    SearchQuery,
    SearchTerm,
    fts5_expression,
    parse_search,
    tsquery_expression,
)
from tests.alerts_fixtures import add_article


def test_words_phrases_prefixes_exclusions_and_alternatives_parse():
    query = parse_search('Mocro-Maffia "Sûreté de l\'État" Aktions* -Rabat OR DGST')
    assert query.groups == (
        (
            SearchTerm(("Mocro", "Maffia")),
            SearchTerm(("Sûreté", "de", "l", "État")),
            SearchTerm(("Aktions",), prefix=True),
            SearchTerm(("Rabat",), negated=True),
        ),
        (SearchTerm(("DGST",)),),
    )
    assert [t.words for t in query.positive_terms] == [
        ("Mocro", "Maffia"), ("Sûreté", "de", "l", "État"), ("Aktions",), ("DGST",),
    ]  # fmt: skip


@pytest.mark.parametrize("typed", ["", "   ", '""', "!!! ???", "-alone", "OR OR", "- -"])
def test_input_without_a_word_to_find_is_no_query(typed):
    assert parse_search(typed) is None


def test_hostile_input_is_quoted_not_interpreted():
    query = parse_search("title:x NEAR(a b) \"un\"closed' ; DROP TABLE articles; -- \\ ' :*")
    fts = fts5_expression(query)
    tsq = tsquery_expression(query)
    # Only quoted words reach FTS5; only quoted lexemes reach to_tsquery.
    assert "title:" not in fts and "NEAR(" not in fts
    assert all(part.startswith("'") for part in tsq.replace("(", " ").split() if part[0].isalpha())
    assert "DROP" in fts  # searched for as a word, harmlessly


def test_a_one_letter_star_is_a_plain_word():
    assert parse_search("a*").groups == ((SearchTerm(("a",), prefix=False),),)


def test_expressions_for_both_backends():
    query = SearchQuery("", ((SearchTerm(("mocro", "maffia")), SearchTerm(("x",), negated=True)),
                             (SearchTerm(("aktions",), prefix=True),)))  # fmt: skip
    assert fts5_expression(query) == '("mocro maffia") NOT ("x") OR ("aktions"*)'
    assert tsquery_expression(query) == "(('mocro' <-> 'maffia') & !'x') | ('aktions':*)"


def found(engine, typed: str) -> set[str]:
    with sessions(engine)() as session:
        where = FeedFilter(search=parse_search(typed), searching=True)
        return {item.title for item in feed.feed_page(session, where, limit=100).items}


@pytest.fixture
def archive(engine):
    add_article(engine, "Mocro-Maffia in Antwerpen", "Razzia tegen de Mocro-Maffia.")
    add_article(engine, "Mocro Maffia again", "Spaced spelling of the gang's name.")
    add_article(engine, "Aktionsplan unterzeichnet", "Der Aktionsplan gegen Drogenhandel.",
                source="tagesschau", language="de")  # fmt: skip
    add_article(engine, "Rabat et Bruxelles", "La DGST et la Sûreté de l'État coopèrent.",
                source="le-soir", language="fr")  # fmt: skip
    add_article(engine, "تعاون أمني", "وقع المغرب وبلجيكا خطة عمل مشتركة", source="hespress",
                language="ar")  # fmt: skip
    return engine


def test_search_finds_words_phrases_prefixes_and_alternatives(archive):
    assert found(archive, "razzia") == {"Mocro-Maffia in Antwerpen"}
    assert found(archive, "Mocro-Maffia") == {"Mocro-Maffia in Antwerpen", "Mocro Maffia again"}
    assert found(archive, '"maffia in"') == {"Mocro-Maffia in Antwerpen"}
    assert found(archive, "aktions*") == {"Aktionsplan unterzeichnet"}
    assert found(archive, "DGST OR razzia") == {"Rabat et Bruxelles", "Mocro-Maffia in Antwerpen"}
    assert found(archive, "mocro -razzia") == {"Mocro Maffia again"}
    assert found(archive, "Sûreté") == {"Rabat et Bruxelles"}
    assert found(archive, "المغرب") == {"تعاون أمني"}
    assert found(archive, "nowhere") == set()
    assert found(archive, "!!!") == set()  # searched, but nothing to search for
    # syntax of either engine in the input is searched for as words, and is no error
    assert found(archive, 'title:x NEAR(a b) "un"closed\' ; -- \\ :* AND NOT ^ -x') == set()


def test_index_follows_inserts_updates_and_deletes(archive):
    with sessions(archive)() as session, session.begin():
        session.execute(update(Article).where(Article.title == "Rabat et Bruxelles")
                        .values(title="Rabat, Bruxelles et Tanger"))  # fmt: skip
        session.execute(delete(Article).where(Article.title == "Mocro Maffia again"))
    assert found(archive, "tanger") == {"Rabat, Bruxelles et Tanger"}
    assert found(archive, "Bruxelles -tanger") == set()
    assert found(archive, "spaced") == set()
    add_article(archive, "Eupen", "Nieuw artikel over Eupen.")
    assert found(archive, "eupen") == {"Eupen"}


def test_sqlite_search_folds_accents(sqlite_url):
    from crawler.storage.engine import open_engine

    engine = open_engine(sqlite_url)
    try:
        add_article(engine, "Sûreté", "La Sûreté de l'État.")
        assert found(engine, "surete etat") == {"Sûreté"}
    finally:
        engine.dispose()


def test_postgresql_search_uses_the_gin_index(postgres_url):
    from crawler.storage.engine import open_engine

    engine = open_engine(postgres_url)
    try:
        for number in range(3):
            add_article(engine, f"filler {number}", f"text number {number}")
        # the very condition the feed uses, so a drift from the index expression shows here
        query = select(Article.id).where(search.matches("postgresql", parse_search("filler")))
        compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
        with engine.connect() as connection:
            connection.execute(text("SET enable_seqscan = off"))
            plan = connection.execute(text(f"EXPLAIN {compiled}")).scalars()
            assert "ix_articles_search" in "\n".join(plan)
    finally:
        engine.dispose()


def test_migration_0005_downgrades_and_rebuilds_the_index(engine):
    from alembic import command

    from crawler.storage.engine import alembic_config, migrate

    add_article(engine, "Before the index", "Stored while search did not exist.")
    command.downgrade(alembic_config(engine), "0005-1")
    with sessions(engine)() as session:
        tables = session.execute(text(
            "SELECT name FROM sqlite_master WHERE name LIKE 'articles_fts%'"
            if engine.dialect.name == "sqlite"
            else "SELECT indexname FROM pg_indexes WHERE indexname = 'ix_articles_search'"
        )).all()  # fmt: skip
    assert tables == []
    migrate(engine)
    assert found(engine, "stored while") == {"Before the index"}  # indexed on the way up
