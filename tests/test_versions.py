"""crawler.versions: what counts as a change, the content hash, the diff and the schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crawler.versions import (
    EDITED,
    REDIRECTED,
    REMOVED,
    Change,
    Snapshot,
    Version,
    changed_fields,
    compare,
    content_hash,
    diff,
    next_check,
    same_date,
    text_lines,
    with_diffs,
)

T0 = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
TEXT = "First paragraph of the story.\nSecond paragraph, with the quote.\nThird paragraph."
BEFORE = Snapshot("Harbour strike ends", "Ann Example", T0, TEXT, "https://port.example/a")


def edited(**fields) -> Snapshot:
    values = {**vars(BEFORE), **fields}
    return Snapshot(**values)


def test_whitespace_unicode_form_and_blank_lines_are_no_change():
    same = edited(
        title="  Harbour   strike\tends ",
        author="Ann\u00a0Example",
        text="\n\nFirst  paragraph of the story.\n\n  Second paragraph, with the quote.\n"
        "Third paragraph.  \n",
    )
    assert changed_fields(BEFORE, same) == []
    assert content_hash(BEFORE) == content_hash(same)
    composed = edited(title="Caf\u00e9 closes")
    decomposed = edited(title="Cafe\u0301 closes")
    assert changed_fields(composed, decomposed) == []


def test_labelled_adverts_are_left_out_whether_inline_or_under_their_label():
    inline = "First paragraph of the story.\nAdvertisement: Shiny cars for less!\nThird."
    other = "First paragraph of the story.\nADVERTISEMENT – Cheap flights, book now\nThird."
    assert text_lines(inline) == text_lines(other) == ["First paragraph of the story.", "Third."]
    under_label = "One.\nAnzeige\nShiny cars for less!\nTwo."
    assert text_lines(under_label) == ["One.", "Two."]
    # a word that only starts like a label is text
    assert text_lines("Advertisements are banned near schools, the council said.") == [
        "Advertisements are banned near schools, the council said."
    ]


def test_each_field_that_changed_is_named():
    assert changed_fields(BEFORE, edited(title="Harbour strike ends after deal")) == ["title"]
    trimmed = "First paragraph of the story.\nSecond paragraph, with the quote."
    assert changed_fields(BEFORE, edited(text=trimmed)) == ["text"]
    assert changed_fields(BEFORE, edited(published_at=T0 + timedelta(hours=2))) == ["published_at"]
    assert changed_fields(BEFORE, edited(author="Bob Other", title="New")) == ["title", "author"]


def test_dates_compare_to_the_minute_or_the_day_when_only_the_day_is_known():
    assert same_date(T0, T0 + timedelta(seconds=40))
    assert not same_date(T0, T0 + timedelta(minutes=1))
    midnight = datetime(2026, 12, 1, tzinfo=UTC)
    assert same_date(T0, midnight)
    assert not same_date(T0, midnight + timedelta(days=1))
    assert same_date(None, None) and not same_date(T0, None)
    # naive values are UTC, other offsets are converted
    assert same_date(T0, T0.replace(tzinfo=None))
    assert same_date(T0, T0.astimezone(timezone_plus(2)))


def timezone_plus(hours: int):
    from datetime import timezone

    return timezone(timedelta(hours=hours))


def test_compare_decides_the_kind_of_version_and_repeats_none():
    assert compare(BEFORE, EDITED, edited(), EDITED) is None
    assert compare(BEFORE, EDITED, edited(title="New"), EDITED) == Change(EDITED, ("title",))
    gone = Snapshot(None, None, None, None, "https://port.example/a")
    assert compare(BEFORE, EDITED, gone, REMOVED) == Change(REMOVED, ())
    assert compare(gone, REMOVED, gone, REMOVED) is None  # removed once
    back = compare(gone, REMOVED, BEFORE, EDITED)
    assert back is not None and back.change == EDITED
    moved = edited(final_url="https://port.example/")
    assert compare(BEFORE, EDITED, moved, REDIRECTED) == Change(REDIRECTED, ())
    assert compare(moved, REDIRECTED, moved, REDIRECTED) is None
    elsewhere = edited(final_url="https://port.example/other")
    assert compare(moved, REDIRECTED, elsewhere, REDIRECTED) == Change(REDIRECTED, ())


def test_the_content_hash_tells_the_kind_and_place_apart():
    moved = edited(final_url="https://port.example/")
    assert content_hash(BEFORE) == content_hash(moved)  # an edit's address is no content
    assert content_hash(moved, REDIRECTED) != content_hash(BEFORE)
    assert content_hash(moved, REDIRECTED) != content_hash(
        edited(final_url="https://port.example/other"), REDIRECTED
    )
    assert len(content_hash(BEFORE)) == 64


def test_diff_shows_removed_and_added_lines_per_field():
    after = edited(
        title="Harbour strike ends after deal",
        text="First paragraph of the story.\nSecond paragraph, with the quote.",
        published_at=T0 - timedelta(days=1),
    )
    diffs = {found.field: found.lines for found in diff(BEFORE, after)}
    assert list(diffs) == ["title", "text", "published_at"]
    assert diffs["title"] == ("-Harbour strike ends", "+Harbour strike ends after deal")
    assert diffs["text"][0].startswith("@@")
    assert diffs["text"][1:] == (" Second paragraph, with the quote.", "-Third paragraph.")
    assert diffs["published_at"] == ("-2026-12-01 10:30 UTC", "+2026-11-30 10:30 UTC")
    assert diff(BEFORE, edited()) == []


def test_with_diffs_compares_with_the_last_version_that_had_a_page():
    gone = Snapshot(None, None, None, None, None)
    history = [
        Version(1, T0, "first", (), None, None, BEFORE),
        Version(2, T0, REMOVED, (), 404, None, gone),
        Version(3, T0, EDITED, ("title",), 200, None, edited(title="Back again")),
    ]
    shown = with_diffs(history)
    assert [diffs for _, diffs in shown][:2] == [[], []]
    (title,) = shown[2][1]
    assert title.lines == ("-Harbour strike ends", "+Back again")


def test_the_schedule_counts_from_the_first_fetch_and_skips_steps_a_late_check_covers():
    after = (3600.0, 6 * 3600.0, 24 * 3600.0, 72 * 3600.0)
    done, due = next_check(T0, after, 0, T0 + timedelta(hours=1, minutes=5))
    assert (done, due) == (1, T0 + timedelta(hours=6))
    # checked only after 30 hours: the 6 h and 24 h steps are covered by this check
    done, due = next_check(T0, after, 1, T0 + timedelta(hours=30))
    assert (done, due) == (3, T0 + timedelta(hours=72))
    assert next_check(T0, after, 3, T0 + timedelta(hours=72)) == (4, None)
