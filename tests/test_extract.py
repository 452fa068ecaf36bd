"""Tests for crawler.extract: decoding page bytes and extracting article text and metadata."""

from __future__ import annotations

import os
import pickle
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime

import pytest

from crawler.extract import (
    ExtractionError,
    ExtractOptions,
    decode_html,
    extract_article,
    extract_document,
)
from crawler.fingerprints import extract_and_fingerprint, outbound_links, page_links
from crawler.items import ArticlePage, FeedHints
from crawler.processes import call_and_release, die_with_fork_server, fork_server

GERMAN = [
    "Die Bürgermeisterin hat am Montag im Rathaus die Pläne für den neuen Stadtpark vorgestellt."
    " Auf dem Gelände der früheren Brauerei sollen bis 2026 Spielplätze und Wiesen entstehen.",
    "Anwohner äußerten sich überwiegend zufrieden. Kritik kam von der Opposition, die höhere"
    " Kosten befürchtet und eine größere Beteiligung der Bürgerinnen und Bürger fordert.",
    "Der Stadtrat soll im März über die Finanzierung abstimmen. Die Straße zur Brauerei bleibt"
    " während der Bauarbeiten gesperrt, Fußgänger werden über die Schillerstraße umgeleitet.",
]
FRENCH = [
    "Le gouvernement a présenté mercredi à Paris un projet de réforme des retraites très attendu."
    " Les syndicats ont immédiatement dénoncé un texte jugé « brutal » et appelé à la grève.",
    "Selon le ministre, l'âge légal de départ serait relevé progressivement. Les élèves et"
    " les étudiants ont prévu de manifester devant l'Assemblée nationale la semaine prochaine.",
    "Le débat parlementaire doit commencer en février. L'opposition a déjà déposé des milliers"
    " d'amendements et promet une bataille longue et difficile à l'Assemblée comme au Sénat.",
]
DUTCH = [
    "De gemeenteraad van Utrecht heeft dinsdagavond ingestemd met het plan om de binnenstad"
    " autovrij te maken. Vanaf volgend jaar mogen alleen nog bussen en fietsers de singel op.",
    "Ondernemers zijn verdeeld over het besluit. Sommige winkeliers vrezen minder klanten, terwijl"
    " horecazaken juist verwachten dat de terrassen groter en de straten rustiger worden.",
    "De wethouder benadrukte dat het plan na twee jaar wordt geëvalueerd. Bewoners kunnen tot"
    " eind maart reageren op de uitwerking van de nieuwe verkeersmaatregelen in het centrum.",
]
ARABIC = [
    "أعلنت الحكومة اليوم عن خطة جديدة لدعم الشركات الصغيرة والمتوسطة في جميع أنحاء البلاد،"
    " وتشمل الخطة قروضا ميسرة وإعفاءات ضريبية لمدة ثلاث سنوات.",
    "وقال وزير الاقتصاد في مؤتمر صحفي إن الخطة تهدف إلى خلق آلاف فرص العمل للشباب وتقليل"
    " معدلات البطالة التي ارتفعت خلال العامين الماضيين بشكل ملحوظ.",
    "ورحبت غرفة التجارة بالقرار، لكنها طالبت بتبسيط الإجراءات الإدارية وتسريع صرف القروض"
    " حتى تستفيد الشركات من الدعم في أقرب وقت ممكن.",
]


def page(paragraphs: list[str], head: str = "", html_attrs: str = "", title: str = "") -> str:
    """A small article page: a headline, navigation boilerplate, the paragraphs, a footer."""
    body = "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    heading = f"<h1>{title}</h1>" if title else ""
    return (
        f"<!DOCTYPE html><html {html_attrs}><head><meta charset='utf-8'>{head}</head><body>"
        "<nav><ul><li><a href='/'>Start</a></li><li><a href='/politik'>Politik</a></li></ul></nav>"
        f"<main><article>{heading}{body}</article></main>"
        "<footer><p>© 2024 Example Media. Impressum · Datenschutz</p></footer></body></html>"
    )


# --- decode_html ------------------------------------------------------------------------------


def test_decode_utf8_as_declared() -> None:
    html = page(GERMAN)
    assert decode_html(html.encode("utf-8"), "utf-8") == html


def test_decode_page_declared_utf8_but_really_windows_1252() -> None:
    html = page(GERMAN)  # its meta tag also (wrongly) says utf-8
    text = decode_html(html.encode("cp1252"), "UTF-8")
    assert "\ufffd" not in text
    assert "Bürgermeisterin" in text and "äußerten" in text and "Straße" in text


def test_decode_french_windows_1252_without_labels() -> None:
    # A character detector alone reads this as cp1250 ("à" becomes "ŕ").
    html = "<html><body><p>À côté de la gare, l'élève a déjà fêté Noël à Paris.</p></body></html>"
    assert decode_html(html.encode("cp1252"), None) == html


def test_decode_uses_meta_charset_when_header_is_silent() -> None:
    html = '<html><head><meta charset="windows-1252"></head><body>Café Müller</body></html>'
    assert "Café Müller" in decode_html(html.encode("cp1252"), None)


def test_decode_reads_latin1_label_as_windows_1252() -> None:
    html = (
        '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
        "<p>Preis: 5 € – „gut“</p>"
    )
    assert decode_html(html.encode("cp1252"), None) == html


def test_decode_http_header_wins_over_meta() -> None:
    html = '<html><head><meta charset="utf-8"></head><body>Москва сегодня</body></html>'
    assert "Москва сегодня" in decode_html(html.encode("cp1251"), "windows-1251")


def test_decode_detects_cyrillic_when_labels_lie() -> None:
    html = (
        "<html><body><p>Президент России заявил журналистам, что переговоры продолжатся"
        " на следующей неделе в Москве.</p></body></html>"
    )
    assert decode_html(html.encode("cp1251"), "utf-8") == html


def test_decode_detects_central_european_text() -> None:
    html = (
        "<html><body><p>Prezydent Polski powiedział dziennikarzom, że rozmowy będą"
        " kontynuowane w przyszłym tygodniu. Zażółć gęślą jaźń.</p></body></html>"
    )
    assert decode_html(html.encode("cp1250"), None) == html


def test_decode_byte_order_mark_wins() -> None:
    assert decode_html("\ufeffÜber".encode(), "iso-8859-1") == "Über"


def test_decode_ignores_unknown_label() -> None:
    assert decode_html("Größe".encode(), "x-no-such-charset") == "Größe"


# --- extract_article: metadata ----------------------------------------------------------------

GERMAN_HEAD = (
    "<title>Neuer Stadtpark: Pläne vorgestellt | Beispielzeitung</title>"
    '<meta property="og:title" content="Neuer Stadtpark: Pläne vorgestellt">'
    '<meta property="og:site_name" content="Beispielzeitung">'
    '<meta name="description" content="Die Bürgermeisterin stellt die Pläne für den Park vor.">'
    '<meta property="og:image" content="/bilder/park.jpg">'
    '<meta name="author" content="Anna Müller; Jörg Schäfer">'
    '<meta property="article:published_time" content="2024-03-04T09:30:00+01:00">'
    '<link rel="canonical" href="/lokales/neuer-stadtpark-123">'
)


def test_extract_german_article_with_metadata() -> None:
    url = "https://www.beispiel.de/lokales/neuer-stadtpark-123?utm_source=rss"
    result = extract_article(page(GERMAN, GERMAN_HEAD, 'lang="de-DE"'), url)
    assert "Bürgermeisterin" in result.text and "Fußgänger" in result.text
    assert "Impressum" not in result.text and "Politik" not in result.text
    assert result.title == "Neuer Stadtpark: Pläne vorgestellt"
    assert result.author == "Anna Müller, Jörg Schäfer"
    assert result.published_at == datetime(2024, 3, 4, 8, 30, tzinfo=UTC)
    assert result.language == "de"
    assert result.lead == "Die Bürgermeisterin stellt die Pläne für den Park vor."
    assert result.site_name == "Beispielzeitung"
    assert result.image_url == "https://www.beispiel.de/bilder/park.jpg"
    assert result.declared_canonical == "https://www.beispiel.de/lokales/neuer-stadtpark-123"


def test_extract_french_article_detects_language_and_reads_json_ld_date() -> None:
    head = (
        "<title>Retraites : le projet de réforme présenté</title>"
        '<script type="application/ld+json">{"@type": "NewsArticle",'
        ' "datePublished": "2024-01-10T18:05:00Z", "headline": "Retraites"}</script>'
        '<meta property="og:url" content="https://www.journal.example/politique/retraites">'
    )
    result = extract_article(page(FRENCH, head), "https://journal.example/p/123")
    assert result.language == "fr"
    assert "élèves" in result.text and "débat" in result.text
    assert result.published_at == datetime(2024, 1, 10, 18, 5, tzinfo=UTC)
    assert result.declared_canonical == "https://www.journal.example/politique/retraites"


def test_extract_text_contradicting_html_lang_wins() -> None:
    # The site template says English; the article is Dutch.
    result = extract_article(
        page(DUTCH, "<title>Binnenstad autovrij</title>", 'lang="en"'),
        "https://nieuws.example/utrecht",
    )
    assert result.language == "nl"
    assert "geëvalueerd" in result.text


def test_extract_arabic_article() -> None:
    head = "<title>خطة جديدة لدعم الشركات الصغيرة</title>"
    result = extract_article(page(ARABIC, head, 'dir="rtl"'), "https://akhbar.example/a/1")
    assert result.language == "ar"
    assert "الشركات الصغيرة" in result.text
    assert result.title == "خطة جديدة لدعم الشركات الصغيرة"


def test_extract_page_date_refined_by_feed_time() -> None:
    head = '<meta name="date" content="2024-03-04">'
    hints = FeedHints(published_at=datetime(2024, 3, 4, 6, 15, tzinfo=UTC))
    result = extract_article(page(GERMAN, head, 'lang="de"'), "https://a.example/x", hints)
    assert result.published_at == datetime(2024, 3, 4, 6, 15, tzinfo=UTC)


def test_extract_page_date_alone_is_midnight_utc() -> None:
    head = '<meta name="date" content="2024-03-04">'
    # A feed time on another day does not belong to this page's date.
    hints = FeedHints(published_at=datetime(2024, 2, 1, 6, 15, tzinfo=UTC))
    result = extract_article(page(GERMAN, head, 'lang="de"'), "https://a.example/x", hints)
    assert result.published_at == datetime(2024, 3, 4, tzinfo=UTC)


def test_copyright_year_is_not_a_publication_date() -> None:
    # htmldate's extensive search would answer 2024-01-01 from the footer's "© 2024".
    result = extract_article(page(DUTCH), "https://nieuws.example/utrecht")
    assert result.published_at is None


def test_feed_hints_fill_what_the_page_lacks() -> None:
    hints = FeedHints(
        title="Utrecht wordt autovrij",
        author="Piet de Vries",
        published_at=datetime(2024, 5, 6, 7, 8, tzinfo=UTC),
        summary="<p>De <b>binnenstad</b> wordt   autovrij.</p>",
        language="nl",
        image_url="https://cdn.example/utrecht.jpg",
    )
    result = extract_article(page(DUTCH), "https://nieuws.example/utrecht", hints)
    assert result.title == "Utrecht wordt autovrij"
    assert result.author == "Piet de Vries"
    assert result.published_at == hints.published_at
    assert result.lead == "De binnenstad wordt autovrij."
    assert result.language == "nl"
    assert result.image_url == "https://cdn.example/utrecht.jpg"


def test_page_metadata_wins_over_feed_hints() -> None:
    hints = FeedHints(title="Feed title", author="Feed Author", summary="Feed summary")
    result = extract_article(page(GERMAN, GERMAN_HEAD), "https://www.beispiel.de/x", hints)
    assert result.title == "Neuer Stadtpark: Pläne vorgestellt"
    assert result.author == "Anna Müller, Jörg Schäfer"
    assert result.lead == "Die Bürgermeisterin stellt die Pläne für den Park vor."


def test_language_claim_kept_for_a_close_relative() -> None:
    danish = [
        "Regeringen præsenterede i går en ny plan for den grønne omstilling, som skal reducere"
        " udledningen af drivhusgasser markant inden 2030.",
        "Statsministeren sagde, at planen er ambitiøs, men nødvendig, og at den vil skabe"
        " tusindvis af nye arbejdspladser i hele landet de kommende år.",
    ]
    # The model may hesitate between Danish and Norwegian; the source's own claim settles it,
    # while a claim of an unrelated language does not.
    assert extract_article(page(danish), "https://a.example/x", language_hint="no").language == "no"
    assert extract_article(page(danish), "https://a.example/x", language_hint="de").language == "da"


def test_language_hint_used_when_consistent() -> None:
    result = extract_article(page(GERMAN), "https://a.example/x", language_hint="de-AT")
    assert result.language == "de"


# --- extract_article: failures and process pools ----------------------------------------------


def test_short_text_raises_with_reason() -> None:
    html = page(["Kurze Meldung: Die Straße ist wieder frei."])
    with pytest.raises(ExtractionError, match=r"too short \(\d+ characters, minimum 200\)"):
        extract_article(html, "https://a.example/x")
    # the same page passes with a lower minimum
    text = extract_article(html, "https://a.example/x", options=ExtractOptions(min_text_chars=10))
    assert "Straße" in text.text


def test_page_without_text_raises() -> None:
    with pytest.raises(ExtractionError, match="no article text found") as error:
        extract_article(
            "<html><head><title>Start</title></head><body></body></html>", "https://a.example/"
        )
    assert isinstance(error.value, ValueError)


def test_extraction_error_survives_pickling() -> None:
    error = pickle.loads(pickle.dumps(ExtractionError("no article text found")))
    assert error.reason == "no article text found"


def test_same_page_twice_gives_same_text() -> None:
    # trafilatura's own de-duplication would drop text it has seen before in this process.
    html = page([*GERMAN, GERMAN[0]], html_attrs='lang="de"')
    first = extract_article(html, "https://a.example/x")
    second = extract_article(html, "https://a.example/x")
    assert first.text == second.text
    assert first.text.count("Die Bürgermeisterin hat am Montag") == 2


def test_extract_runs_in_a_process_pool() -> None:
    html = page(FRENCH, html_attrs='lang="fr"')
    with ProcessPoolExecutor(max_workers=1) as pool:
        result = pool.submit(
            extract_article, html, "https://a.example/x", None, None, ExtractOptions(fast=True)
        ).result(timeout=60)
    assert result.language == "fr" and "Assemblée" in result.text


def _where_forked() -> tuple[int, int | None, bool]:
    """In a pool process: its parent, the fork server it knows of, whether the language model
    was there before any page was extracted in it."""
    import py3langid.langid

    from crawler import processes

    return os.getppid(), processes._fork_server_pid, py3langid.langid.IDENTIFIER is not None


def test_extraction_processes_are_forked_from_a_warmed_up_server() -> None:
    # The pool the extract pipeline starts: forked by a server that has loaded extraction.
    pool = ProcessPoolExecutor(
        1,
        mp_context=fork_server(["crawler.extraction_server"]),
        initializer=die_with_fork_server,
    )
    with pool:
        parent, server, model_loaded = pool.submit(_where_forked).result(timeout=60)
        url = "https://a.example/x"
        body = page(FRENCH, html_attrs='lang="fr"').encode()
        article = ArticlePage("s", url, url, url, body, "utf-8")
        extracted, prints = pool.submit(
            call_and_release, extract_and_fingerprint, article, ExtractOptions()
        ).result(timeout=60)
    assert server is not None and parent == server != os.getpid()  # dies with the server
    assert model_loaded
    assert extracted.language == "fr" and prints.bands


def test_windows_1252_bytes_end_to_end() -> None:
    html = page(GERMAN, "<title>Stadtpark</title>", 'lang="de"')
    result = extract_article(decode_html(html.encode("cp1252"), "utf-8"), "https://a.example/x")
    assert "äußerten" in result.text and "\ufffd" not in result.text


def test_same_body_under_different_headlines_extracts_to_the_same_text() -> None:
    paragraphs = [
        "Die belgische Justiz und der marokkanische Geheimdienst DGST arbeiten enger zusammen. "
        * 4,
        "Ein gemeinsamer Aktionsplan soll den Drogenhandel über Antwerpen eindämmen. " * 4,
    ]
    first = extract_article(
        page(paragraphs, title="Belgien und Marokko: Aktionsplan"), "https://a.example/1"
    )
    second = extract_article(
        page(paragraphs, title="Neuer Pakt gegen die Mocro-Maffia"), "https://b.example/2"
    )
    assert first.title != second.title
    assert first.text == second.text
    assert not first.text.startswith("Belgien und Marokko")


def test_extract_document_gives_the_article_and_the_page_it_parsed() -> None:
    html = page(GERMAN, "<title>Stadtpark</title>", 'lang="de"')
    extracted, tree = extract_document(html, "https://a.example/x")
    assert extracted == extract_article(html, "https://a.example/x")
    assert tree.findtext(".//title") == "Stadtpark"


CITING = [
    "Die Bürgermeisterin verwies auf <a href='https://stats.example.org/park.pdf'>eine Studie</a>"
    " und auf <a href='/intern'>frühere Pläne</a>. " + GERMAN[0],
    *GERMAN[1:],
]


@pytest.mark.parametrize(
    "html",
    [
        page(CITING, html_attrs='lang="de"'),
        # pages trafilatura repairs before parsing, and so parses unlike lxml.html.fromstring
        '<?xml version="1.0" encoding="utf-8"?>\n' + page(CITING),
        page(CITING).replace("<!DOCTYPE html>", '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML//EN">'),
        page(CITING).replace("Studie", "Stu\x02die"),
        page(CITING).replace("<html >", "<html />\n"),
    ],
    ids=["plain", "xml-declaration", "doctype-with-slash", "control-character", "html-closed"],
)
def test_links_read_from_the_parsed_page_are_those_of_the_html(html: str) -> None:
    url = "https://a.example/x"
    _extracted, tree = extract_document(html, url)
    assert page_links(html, tree, url) == outbound_links(html, url)
