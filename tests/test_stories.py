"""Pure story functions: MinHash fingerprints, evidence across languages, grouping decisions."""

from __future__ import annotations

from crawler.dedupe import Overlap, overlap, shingles, text_band_keys
from crawler.evidence import agreement, evidence, figures_differ
from crawler.fingerprints import fingerprint, outbound_links
from crawler.stories import (
    Candidate,
    assess,
    choose,
    common_keys,
    counted,
    explain,
    is_copy,
    rare_keys,
)

WIRE = [
    "Une opération menée simultanément en Belgique et au Maroc a permis de démanteler un "
    "réseau soupçonné d'avoir importé plusieurs tonnes de cocaïne par le port d'Anvers, a "
    "annoncé lundi le parquet fédéral. Quatorze personnes ont été interpellées.",
    "L'enquête a été conduite par la police judiciaire fédérale d'Anvers en étroite "
    "collaboration avec la Direction générale de la sûreté nationale (DGSN) et la DGST.",
    "Les enquêteurs ont saisi des armes, plus de 900 000 euros en espèces, des véhicules de "
    "luxe ainsi que plusieurs téléphones cryptés. Des comptes bancaires ont été gelés.",
    "« Une coopération exemplaire avec les autorités marocaines », a salué le procureur "
    "Julien Moinil, qui dirige l'enquête avec le juge Karim Haddaoui depuis dix-huit mois.",
    "Les suspects arrêtés au Maroc seront jugés sur place, en vertu de la procédure de "
    "transfert des poursuites prévue par le plan d'action signé à Rabat début novembre.",
]
TEXT = "\n\n".join(WIRE)


def test_fingerprints_are_stable_values():
    # Stored band keys must never change silently: a new scheme needs a new SCHEME name.
    keys = text_band_keys("Belgium and Morocco sign a security action plan in Rabat.")
    assert len(keys) == 42 and all(0 <= key < 2**63 for key in keys)
    assert keys == text_band_keys("BELGIUM and Morocco   sign a security action plan in Rabat!")
    assert keys[:2] == (7947736792524348315, 5788620827905638706)


def test_a_syndicated_copy_shares_bands_and_most_shingles():
    copy = "(Belga)\n\n" + "\n\n".join(WIRE[:-1]) + "\n\nLire aussi : la sécurité des ports"
    assert set(text_band_keys(TEXT)) & set(text_band_keys(copy))
    found = overlap(shingles(TEXT), shingles(copy))
    assert found.containment > 0.9
    assert is_copy(found, evidence(copy), evidence(TEXT))
    other = "Le tribunal de Gand a condamné mardi un homme d'affaires à six ans de prison."
    assert not set(text_band_keys(TEXT)) & set(text_band_keys(other))
    assert overlap(shingles(TEXT), shingles(other)).containment < 0.1


def test_a_text_in_the_same_template_is_no_copy():
    sibling = TEXT.replace("900 000", "750 000").replace("Julien Moinil", "Els De Smet")
    found = overlap(shingles(TEXT), shingles(sibling))
    assert found.containment > 0.8  # alike as texts ...
    assert not is_copy(found, evidence(sibling), evidence(TEXT))  # ... but not in figures
    # between 0.6 and 0.8 in common, a copy must also keep the names and figures
    keys = ["pair:julien moinil", "acro:dgsn", "num:900000"]
    assert is_copy(Overlap(0.7), keys, [*keys, "acro:dgst"])
    assert not is_copy(Overlap(0.7), keys, ["pair:els de smet", "acro:ocam"])
    assert not is_copy(Overlap(0.5), keys, keys)
    assert agreement(keys, []) is None


def test_overlap_of_empty_text_is_none():
    assert overlap(shingles(""), shingles(TEXT)).containment == 0.0


def test_evidence_finds_names_acronyms_numbers_and_quotes():
    found = evidence(TEXT)
    assert {"pair:julien moinil", "name:moinil", "acro:dgsn", "acro:dgst"} <= set(found)
    assert {"name:anvers", "name:rabat", "num:900000"} <= set(found)
    assert found["num:900000"] == "900 000"
    assert any(key.startswith("quote:") for key in found)
    # a capitalised word that starts a sentence is not taken for a name
    assert "name:les" not in found and "name:quatorze" not in found


def test_evidence_spells_numbers_one_way_in_every_language():
    for text in ("900 000 euros", "900,000 euros", "900.000 Euro", "900\u202f000 €"):
        assert "num:900000" in evidence(text), text
    assert "num:2028" in evidence("حتى نهاية ٢٠٢٨")  # Arabic-Indic digits
    assert "num:2.5" in evidence("une hausse de 2,5 %")
    dated = evidence("Am 13.11.2026 um 13:02 Uhr und um 9h30 h.")
    assert not [key for key in dated if key.startswith("num:")]


def test_evidence_ignores_words_and_numbers_no_name_or_figure_has():
    found = evidence("Wir sahen " + "Donau" * 20 + " und " + "9" * 40 + " Schiffe.")
    assert list(found) == ["name:schiffe"]


def test_evidence_folds_accents_and_keeps_links_to_pages():
    german = evidence("Der Minister traf Bürgermeister Müller in Brüssel.")
    assert "name:brussel" in german and "pair:burgermeister muller" in german
    links = evidence("", ["https://www.justice.be/press/2026/op?utm_source=x", "https://x.com/"])
    assert list(links) == ["link:justice.be/press/2026/op"]


def test_outbound_links_are_those_in_running_text_to_other_sites():
    html = """<html><body><nav><a href="https://facebook.com/share">share</a></nav>
    <p>The <a href="https://www.justice.be/press/2026/op">prosecutor said</a> and
    <a href="/local/page">see also</a>.</p></body></html>"""
    assert outbound_links(html, "https://news.example/a") == (
        "https://www.justice.be/press/2026/op",
    )
    assert outbound_links("", "https://news.example/a") == ()


def test_fingerprint_carries_bands_and_labelled_evidence():
    found = fingerprint(TEXT, ["https://justice.be/op/1"])
    assert len(found.bands) == 42
    assert ("acro:dgsn", "DGSN") in found.evidence
    assert ("link:justice.be/op/1", "justice.be/op/1") in found.evidence


def test_figures_differ_only_when_both_texts_give_figures():
    assert figures_differ(["num:9869000", "num:17"], ["num:9797000"])
    assert not figures_differ(["num:9869000"], ["num:9869000", "num:250"])
    assert not figures_differ(["num:9869000"], ["num:2028", "num:14"])  # years, small counts


def _candidate(keys, total=20, language="en"):
    return Candidate(
        article_id=7, story_id=3, shared=frozenset(keys), total_keys=total, language=language
    )


STRONG = ["pair:julien moinil", "acro:dgsn", "num:900000", "name:anvers", "name:rabat"]


def test_enough_rare_evidence_joins_and_says_why():
    join = assess(_candidate(STRONG), 25, {}, language="fr")
    assert join is not None and join.story_id == 3 and join.article_id == 7
    labels = {"pair:julien moinil": "Julien Moinil", "num:900000": "900 000"}
    reason = explain(join, labels)
    assert reason.startswith("shares ") and "Julien Moinil" in reason and "with #7" in reason


def test_thin_or_weak_evidence_does_not_join():
    assert assess(_candidate(STRONG[:3]), 25, {}) is None  # too few keys
    names_only = ["name:anvers", "name:rabat", "name:maroc", "name:belgique", "acro:dgst"]
    assert assess(_candidate(names_only), 25, {}) is None  # nothing specific
    # the same keys, spread over four other stories of the window, prove little
    assert assess(_candidate(STRONG), 25, dict.fromkeys(STRONG, 4)) is None
    # a long article that shares a little with everything is no member
    assert assess(_candidate(STRONG, total=120), 120, {}) is None


def test_german_nouns_prove_nothing_between_german_texts():
    nouns = [
        "pair:tonnen kokain",
        "pair:euro bargeld",
        "name:durchsuchungen",
        "name:haft",
        "name:kokain",
        "acro:bka",
        "num:1377000",
    ]
    assert assess(_candidate(nouns, language="de"), 30, {}, language="de") is None
    # shared across languages, capitalised words are names: German meets English on them
    names = ["pair:stefan brandt", "pair:olivier renard", "acro:bka", "num:1377000"]
    assert assess(_candidate(names, language="de"), 30, {}, language="en") is not None


def test_a_title_and_a_name_count_as_one_person():
    keys = ["pair:minister helene", "pair:helene dumortier", "name:dumortier", "acro:pjf"]
    assert sorted(counted(keys)) == ["acro:pjf", "pair:helene dumortier"]


def test_a_full_name_is_not_counted_again_as_its_parts():
    assert sorted(counted(["pair:julien moinil", "name:moinil", "name:rabat"])) == [
        "name:rabat",
        "pair:julien moinil",
    ]


def test_rare_keys_drop_words_common_in_the_window_or_the_archive():
    window = {"name:rabat": 5, "name:moinil": 1, "name:euro": 1, "num:900000": 2}
    archive = {"name:euro": 400, "name:moinil": 2}
    assert rare_keys(window, archive, archive_stories=10_000) == {"name:moinil", "num:900000"}
    # a young archive judges nothing common below the floor
    assert "name:euro" in rare_keys({"name:euro": 1}, {"name:euro": 9}, archive_stories=50)


def test_keys_common_in_the_archive_are_the_ones_rare_keys_never_keeps():
    archive = {"name:euro": 400, "name:moinil": 2, "name:rabat": 100, "name:gand": 101}
    common = common_keys(archive, archive_stories=10_000)
    assert common == {"name:euro", "name:gand"}
    window = dict.fromkeys(archive, 1)
    assert rare_keys(window, archive, archive_stories=10_000) == set(archive) - common


def test_choose_takes_the_best_supported_candidate():
    weak = Candidate(1, 1, frozenset([*STRONG[:4], "name:maroc"]), 20)
    strong = Candidate(2, 2, frozenset([*STRONG, "quote:ab12"]), 20)
    assert choose([weak, strong], 25, {}).story_id == 2
    assert choose([], 25, {}) is None
