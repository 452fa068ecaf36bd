"""`newswatch sources import/export`: OPML in and out, appended safely to the config file."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.sources import Source
from newswatch.cli import cli
from newswatch.commands.sources import feed_name, write_opml
from newswatch.settings import load_settings
from tests.crawl_helpers import write_config

# A feed reader's export: nested folders, the same feed in two folders, two feeds of the
# same title, non-ASCII titles, outlines without xmlUrl, '&' in an address, a language.
READER_OPML = """\
<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>My subscriptions</title></head>
  <body>
    <outline text="Belgique">
      <outline text="Presse" title="Presse">
        <outline type="rss" text="Le Soir – Actualités" language="fr"
                 xmlUrl="https://www.lesoir.be/rss?cat=belgique&amp;lang=fr"
                 htmlUrl="https://www.lesoir.be/"/>
      </outline>
      <outline type="rss" text="HLN" xmlUrl="https://www.hln.be/home/rss.xml"/>
    </outline>
    <outline text="Maroc">
      <outline type="rss" text="HLN" xmlUrl="https://www.hln.be/home/rss.xml"/>
      <outline type="rss" text="Hespress" xmlUrl="https://www.hespress.com/feed"/>
      <outline type="rss" text="Hespress" xmlUrl="https://fr.hespress.com/feed"/>
      <outline type="rss" text="هسبريس" xmlUrl="https://ar.hespress.com/feed"/>
    </outline>
    <outline text="A web page, no feed" htmlUrl="https://example.org/"/>
    <outline text="Empty folder"/>
    <outline type="rss" text="Gopher" xmlUrl="gopher://example.org/feed"/>
  </body>
</opml>
"""


def newswatch(config: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", str(config), *args])


def feeds_of(config: Path) -> dict[str, Source]:
    return {s.urls[0]: s for s in load_settings(config, env={}).sources if s.kind == "feed"}


@pytest.fixture
def config(tmp_path) -> Path:
    return write_config(
        tmp_path / "newswatch.toml",
        [
            {
                "name": "tagesschau",
                "kind": "feed",
                "url": "https://www.tagesschau.de/xml/rss2",
                "language": "de",
                "tags": ["de", "press"],
            },
            {
                "name": "le360",
                "kind": "listing",
                "url": "https://fr.le360.ma/societe",
                "link_selector": "h2 a",
                "tags": ["ma"],
            },
        ],
    )


@pytest.fixture
def reader_opml(tmp_path) -> Path:
    path = tmp_path / "subscriptions.opml"
    path.write_text(READER_OPML, encoding="utf-8")
    return path


def backups(config: Path) -> list[Path]:
    return sorted(config.parent.glob(f"{config.name}.*.bak"))


def test_import_adds_feeds_with_folders_as_tags_and_the_config_loads(config, reader_opml):
    before = config.read_bytes()
    result = newswatch(config, "sources", "import", str(reader_opml), "--tag", "imported")
    assert result.exit_code == 0, result.output
    feeds = feeds_of(config)
    le_soir = feeds["https://www.lesoir.be/rss?cat=belgique&lang=fr"]
    assert le_soir.name == "le-soir-actualites"
    assert le_soir.tags == ("Belgique", "Presse", "imported")
    assert le_soir.language == "fr"
    # one feed listed in two folders is one source with both folders as tags
    assert feeds["https://www.hln.be/home/rss.xml"].tags == ("Belgique", "Maroc", "imported")
    # same title, other address: a unique name; no Latin letters: the host's name
    names = {feeds[f"https://{host}/feed"].name for host in ("www.hespress.com", "fr.hespress.com")}
    assert names == {"hespress", "hespress-2"}
    assert feeds["https://ar.hespress.com/feed"].name == "ar-hespress-com"
    assert "tagesschau" in {s.name for s in feeds.values()}
    assert len(feeds) == 1 + 5, f"expected the 5 web feeds and tagesschau: {sorted(feeds)}"
    assert "gopher://example.org/feed" in result.output, "an unusable address is listed"
    # the file was appended to (its layout stays) after a backup of what it was
    assert config.read_bytes().startswith(before)
    (backup,) = backups(config)
    assert backup.read_bytes() == before
    assert "هسبريس" in config.read_text(encoding="utf-8"), "the title is kept as a comment"


def test_round_trip_export_then_import_gives_the_same_feeds_and_tags(tmp_path):
    config = write_config(
        tmp_path / "newswatch.toml",
        [
            {
                "name": "tagesschau",
                "kind": "feed",
                "url": "https://www.tagesschau.de/xml/rss2",
                "language": "de",
                "tags": ["de", "press"],
            },
            {
                "name": "le-soir",
                "kind": "feed",
                "url": "https://www.lesoir.be/rss?a=1&b=<2>",
                "language": "fr",
                "tags": ["Belgique", "presse écrite"],
            },
            {
                "name": "hln",
                "kind": "feed",
                "url": "https://www.hln.be/rss.xml",
                "tags": ["Belgique"],
            },
            {"name": "brussels-times", "kind": "feed", "url": "https://www.brusselstimes.com/feed"},
            {
                "name": "le360",
                "kind": "listing",
                "url": "https://fr.le360.ma/societe",
                "link_selector": "h2 a",
                "tags": ["ma"],
            },
        ],
    )
    exported = tmp_path / "export.opml"
    result = newswatch(config, "sources", "export", "--format", "opml", "-o", str(exported))
    assert result.exit_code == 0, result.output
    assert "le360 (listing)" in result.stderr, "a left-out source is named"
    root = ET.fromstring(exported.read_bytes())
    assert root.get("version") == "2.0"
    folder = next(o for o in root.iter("outline") if o.get("text") == "Belgique")
    assert [o.get("text") for o in folder] == ["le-soir", "hln"]
    assert all(o.get("type") == "rss" for o in folder)

    fresh = write_config(tmp_path / "fresh.toml", [])
    result = newswatch(fresh, "sources", "import", str(exported))
    assert result.exit_code == 0, result.output
    original, back = feeds_of(config), feeds_of(fresh)
    assert set(back) == set(original), "the same feed addresses come back"
    for url, source in original.items():
        got = back[url]
        assert (got.name, got.tags, got.language) == (source.name, source.tags, source.language)


def test_export_escapes_attributes_and_writes_opml_to_stdout(tmp_path):
    sources = [Source("a&b", "feed", ('https://x.example/f?q="1"&r=<2>',), tags=("a & b",))]
    data = write_opml(sources, title="t", created=datetime(2026, 12, 1, tzinfo=UTC))
    outline = ET.fromstring(data).find("body/outline/outline")
    assert outline.get("xmlUrl") == 'https://x.example/f?q="1"&r=<2>'
    assert outline.get("text") == "a&b" and outline.get("category") == "a & b"
    config = write_config(
        tmp_path / "c.toml", [{"name": "x", "kind": "feed", "url": "https://x.example/feed"}]
    )
    result = newswatch(config, "sources", "export")
    assert result.exit_code == 0, result.output
    assert ET.fromstring(result.stdout_bytes).find("body/outline").get("xmlUrl") == (
        "https://x.example/feed"
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"this is not XML at all", "not an XML file"),
        (READER_OPML[:400].encode(), "not an XML file"),  # cut off mid-way
        (b"", "not an XML file"),
        (b'<rss version="2.0"><channel><title>x</title></channel></rss>', "<rss>, not <opml>"),
        (b'<opml version="2.0"><head/></opml>', "has no <body>"),
    ],
    ids=["text", "truncated", "empty", "rss", "no-body"],
)
def test_a_broken_file_is_one_clear_error_and_changes_nothing(config, tmp_path, content, reason):
    broken = tmp_path / "broken.opml"
    broken.write_bytes(content)
    before = config.read_bytes()
    result = newswatch(config, "sources", "import", str(broken))
    assert result.exit_code != 0
    assert str(broken) in result.output and reason in result.output, result.output
    assert "nothing imported" in result.output and "Traceback" not in result.output
    assert config.read_bytes() == before
    assert backups(config) == []


def test_dry_run_writes_nothing(config, reader_opml):
    before = config.read_bytes()
    result = newswatch(config, "sources", "import", str(reader_opml), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would add" in result.output and "le-soir-actualites" in result.output
    assert "nothing written" in result.output
    assert config.read_bytes() == before
    assert backups(config) == []


def test_a_second_import_adds_nothing(config, reader_opml):
    assert newswatch(config, "sources", "import", str(reader_opml)).exit_code == 0
    after_first = config.read_bytes()
    result = newswatch(config, "sources", "import", str(reader_opml))
    assert result.exit_code == 0, result.output
    assert "Nothing new" in result.output
    assert "skipped    le-soir-actualites: its address is configured already" in result.output
    assert config.read_bytes() == after_first
    assert len(backups(config)) == 1, "no second backup when nothing is written"


def test_a_feed_already_configured_under_another_name_is_skipped(config, tmp_path):
    opml = tmp_path / "one.opml"
    opml.write_text(
        '<opml version="2.0"><body><outline type="rss" text="Tagesschau 20 Uhr" '
        'xmlUrl="https://www.tagesschau.de/xml/rss2"/></body></opml>'
    )
    before = config.read_bytes()
    result = newswatch(config, "sources", "import", str(opml))
    assert result.exit_code == 0, result.output
    assert "its address is configured already" in result.output
    assert config.read_bytes() == before


def test_the_declared_encoding_is_read(config, tmp_path):
    opml = tmp_path / "latin1.opml"
    opml.write_bytes(
        '<?xml version="1.0" encoding="ISO-8859-1"?><opml version="1.0"><body>'
        '<outline text="Télé" xmlUrl="https://tele.example/rss"/></body></opml>'.encode("latin-1")
    )
    result = newswatch(config, "sources", "import", str(opml))
    assert result.exit_code == 0, result.output
    assert feeds_of(config)["https://tele.example/rss"].name == "tele"
    assert '"Télé" from latin1.opml' in config.read_text(encoding="utf-8")


def test_import_creates_a_missing_config_file_that_loads(tmp_path, reader_opml):
    config = tmp_path / "new.toml"
    result = newswatch(config, "sources", "import", str(reader_opml))
    assert result.exit_code == 0, result.output
    assert len(feeds_of(config)) == 5


@pytest.mark.parametrize(
    ("title", "url", "name"),
    [
        ("Le Soir – Actualités", "https://www.lesoir.be/rss", "le-soir-actualites"),
        ("Хабр", "https://habr.com/rss/", "habr-com"),
        ("", "https://www.example.org/feed", "example-org"),
        ("  Süddeutsche\nZeitung ", "https://sz.de/rss", "suddeutsche-zeitung"),
    ],
)
def test_feed_name(title, url, name):
    assert feed_name(title, url) == name
