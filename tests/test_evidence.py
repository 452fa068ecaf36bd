"""Evidence end to end: a loopback outlet → crawl → page_captures → `newswatch evidence` → WARC.

The outlet sends one page gzip-compressed behind a redirect and one in ISO-8859-1; what is
kept must be exactly the bytes it served, and the WARC must give them back to warcio.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from newswatch.demo.server import Request, Response, text
from tests.crawl_helpers import execute, newswatch, rows, serving, write_config

MOCRO = (
    "De politie van Antwerpen heeft opnieuw een netwerk van de Mocro-Maffia opgerold. "
    "Bij huiszoekingen in Borgerhout en Deurne werden wapens en cocaïne gevonden; de "
    "Marokkaanse autoriteiten werkten mee aan het onderzoek naar de geldstromen. "
)
EUPEN = (
    "À Eupen, le conseil communal a approuvé le budget de l'année prochaine après un long "
    "débat sur l'entretien des écoles, des routes et de la piscine communale, rénovée. "
)


def html(title: str, paragraph: str, charset: str) -> str:
    body = "".join(f"<p>{paragraph} Alinéa {n}.</p>" for n in range(4))
    return (
        f"<!doctype html><html><head><meta charset='{charset}'><title>{title}</title></head>"
        f"<body><article><h1>{title}</h1>{body}</article></body></html>"
    )


GZIPPED = html("Mocro-Maffia opgerold", MOCRO, "utf-8").encode("utf-8")
LATIN = html("Budget à Eupen", EUPEN, "iso-8859-1").encode("iso-8859-1")


class Outlet:
    """A feed of two links: /moved/1 redirects to /articles/1 (sent gzipped when the client
    accepts it), /latin/2 is a page in ISO-8859-1."""

    def __init__(self) -> None:
        self.base = ""
        self.gzipped: list[str] = []

    def __call__(self, request: Request) -> Response:
        if request.path == "/feed.xml":
            links = "".join(
                f"<item><title>t</title><link>{self.base}{path}</link></item>"
                for path in ("/moved/1", "/latin/2")
            )
            rss = f"<?xml version='1.0'?><rss version='2.0'><channel>{links}</channel></rss>"
            return text(200, rss, "application/rss+xml")
        if request.path == "/moved/1":
            return Response(301, b"", {"Location": f"{self.base}/articles/1"})
        if request.path == "/articles/1":
            headers = {"Content-Type": "text/html; charset=utf-8", "X-Evidence": "kept"}
            if "gzip" in (request.header("Accept-Encoding") or ""):
                self.gzipped.append(request.path)
                return Response(
                    200, gzip.compress(GZIPPED), {**headers, "Content-Encoding": "gzip"}
                )
            return Response(200, GZIPPED, headers)
        if request.path == "/latin/2":
            return Response(200, LATIN, {"Content-Type": "text/html; charset=iso-8859-1"})
        return text(404, "not found")


@pytest.fixture
def outlet():
    served = Outlet()
    with serving(served) as served.base:
        yield served


def config(tmp_path: Path, outlet: Outlet, evidence: str = "") -> Path:
    source = {"name": "krant", "kind": "feed", "url": f"{outlet.base}/feed.xml"}
    path = write_config(tmp_path / "newswatch.toml", [source])
    rules = '\n[[rules]]\nname = "mocro"\nquery = "Mocro*"\n'
    path.write_text(path.read_text(encoding="utf-8") + rules + evidence, encoding="utf-8")
    return path


def crawled(config_path: Path, database_url: str) -> dict[str, int]:
    """Crawl once; the stored article ids by the path of their link."""
    done = newswatch(config_path, database_url, "crawl")
    assert done.returncode == 0, done.stderr
    found = rows(database_url, "SELECT id, link_url FROM articles")
    return {"/" + url.split("/", 3)[3]: article_id for article_id, url in found}


def captures(database_url: str) -> dict[int, tuple]:
    found = rows(
        database_url,
        "SELECT article_id, requested_url, final_url, status, headers, compression, body, "
        "body_sha256, body_size, extractor FROM page_captures",
    )
    return {row[0]: row[1:] for row in found}


def headers_of(stored) -> dict[str, str]:
    pairs = json.loads(stored) if isinstance(stored, str) else stored
    return {name.lower(): value for name, value in pairs}


def test_a_crawl_keeps_the_exact_bytes_each_outlet_served(tmp_path, database_url, outlet):
    ids = crawled(config(tmp_path, outlet, '[evidence]\nkeep = "all"\n'), database_url)
    assert set(ids) == {"/moved/1", "/latin/2"}
    assert outlet.gzipped == ["/articles/1"]  # it did go over the wire compressed
    kept = captures(database_url)
    assert set(kept) == set(ids.values())

    requested, final, status, headers, compression, body, digest, size, extractor = kept[
        ids["/moved/1"]
    ]
    assert compression == "zlib"
    assert zlib.decompress(bytes(body)) == GZIPPED  # the page, not its gzip wrapping
    assert (digest, size) == (hashlib.sha256(GZIPPED).hexdigest(), len(GZIPPED))
    assert (requested, final, status) == (
        f"{outlet.base}/moved/1",
        f"{outlet.base}/articles/1",
        200,
    )
    received = headers_of(headers)
    assert received["x-evidence"] == "kept"
    assert received["content-encoding"] == "gzip"  # how it was sent, though stored decoded
    assert received["content-length"] == str(len(gzip.compress(GZIPPED)))
    assert extractor.startswith("trafilatura ")

    *_, status, headers, _, body, digest, size, _ = kept[ids["/latin/2"]]
    assert zlib.decompress(bytes(body)) == LATIN  # not re-encoded to UTF-8
    assert digest == hashlib.sha256(LATIN).hexdigest() and size == len(LATIN)
    assert headers_of(headers)["content-type"] == "text/html; charset=iso-8859-1"
    assert "content-encoding" not in headers_of(headers)


def read_warc(path: Path) -> list:
    """Every record of a WARC file: (type, WARC headers, HTTP headers, content), digests checked."""
    records = []
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream, check_digests=True):
            content = record.content_stream().read()
            records.append((record.rec_type, record.rec_headers, record.http_headers, content))
    return records


def test_evidence_writes_the_page_text_metadata_and_a_warc_that_reads_back(
    tmp_path, database_url, outlet
):
    ids = crawled(config(tmp_path, outlet, '[evidence]\nkeep = "all"\n'), database_url)
    article_id = ids["/moved/1"]
    folder = tmp_path / "out" / "evidence"
    cfg = tmp_path / "newswatch.toml"

    done = newswatch(cfg, database_url, "evidence", str(article_id), "-o", str(folder))
    assert done.returncode == 0, done.stderr
    warc = f"article-{article_id}.warc.gz"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [warc, "metadata.json", "page.html", "text.txt"]
    )
    assert (folder / "page.html").read_bytes() == GZIPPED
    ((stored_text,),) = rows(database_url, f"SELECT text FROM articles WHERE id = {article_id}")
    assert (folder / "text.txt").read_text(encoding="utf-8") == stored_text
    assert "Mocro-Maffia" in stored_text

    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    assert meta["article_id"] == article_id
    assert meta["requested_url"] == f"{outlet.base}/moved/1"
    assert meta["final_url"] == f"{outlet.base}/articles/1"
    assert meta["status"] == 200
    assert meta["body_sha256"] == hashlib.sha256(GZIPPED).hexdigest()
    assert meta["body_size"] == len(GZIPPED)
    assert meta["extractor"].startswith("trafilatura ")
    assert meta["title"] == "Mocro-Maffia opgerold"
    assert meta["fetched_at"] and meta["story_id"]
    assert ["X-Evidence", "kept"] in meta["headers"]
    assert meta["matched_rules"] == []  # no alerts round yet

    records = read_warc(folder / warc)
    assert [kind for kind, *_ in records] == ["warcinfo", "response", "metadata"]
    _, warc_headers, http_headers, content = records[1]
    assert content == GZIPPED
    assert warc_headers.get_header("WARC-Target-URI") == f"{outlet.base}/articles/1"
    assert http_headers.get_statuscode() == "200"
    assert http_headers.get_header("Content-Length") == str(len(GZIPPED))
    assert http_headers.get_header("Content-Encoding") is None  # the body is not gzipped
    assert http_headers.get_header("X-Archive-Orig-Content-Encoding") == "gzip"
    assert http_headers.get_header("X-Evidence") == "kept"
    _, details_headers, _, details = records[2]
    assert details_headers.get_header("WARC-Concurrent-To") == warc_headers.get_header(
        "WARC-Record-ID"
    )
    assert json.loads(details)["requested_url"] == f"{outlet.base}/moved/1"

    # after the alerts round the metadata names the rule that matched, and when
    assert newswatch(cfg, database_url, "alerts", "run").returncode == 0
    again = newswatch(cfg, database_url, "evidence", str(article_id), "-o", str(folder))
    assert again.returncode == 0, again.stderr
    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    assert [m["rule"] for m in meta["matched_rules"]] == ["mocro"]
    assert meta["matched_rules"][0]["matched_at"]

    # the ISO-8859-1 page: its bytes, not a re-encoding
    latin = tmp_path / "latin"
    done = newswatch(cfg, database_url, "evidence", str(ids["/latin/2"]), "-o", str(latin))
    assert done.returncode == 0, done.stderr
    assert (latin / "page.html").read_bytes() == LATIN
    [(_, _, _, content)] = [
        r for r in read_warc(latin / f"article-{ids['/latin/2']}.warc.gz") if r[0] == "response"
    ]
    assert content == LATIN


def test_matched_keeps_only_the_pages_of_matched_stories_after_the_alerts_round(
    tmp_path, database_url, outlet
):
    cfg = config(tmp_path, outlet)  # [evidence] keep = "matched", the default
    ids = crawled(cfg, database_url)
    assert set(captures(database_url)) == set(ids.values())  # kept until matching decides

    done = newswatch(cfg, database_url, "alerts", "run")
    assert done.returncode == 0, done.stderr
    assert "removed 1 page captures" in done.stdout
    assert set(captures(database_url)) == {ids["/moved/1"]}  # the Mocro-Maffia one matched

    gone = newswatch(cfg, database_url, "evidence", str(ids["/latin/2"]), "-o", str(tmp_path))
    assert gone.returncode == 1
    assert f"article {ids['/latin/2']} has no page kept" in gone.stderr
    assert "Traceback" not in gone.stderr
    unknown = newswatch(cfg, database_url, "evidence", "999999", "-o", str(tmp_path / "x"))
    assert unknown.returncode == 1
    assert "no article with id 999999" in unknown.stderr and "Traceback" not in unknown.stderr
    assert not (tmp_path / "x").exists()


def test_all_keeps_every_page_until_the_retention_period_ends(tmp_path, database_url, outlet):
    cfg = config(tmp_path, outlet, '[evidence]\nkeep = "all"\nretention = "30d"\n')
    ids = crawled(cfg, database_url)
    assert newswatch(cfg, database_url, "alerts", "run").returncode == 0
    assert set(captures(database_url)) == set(ids.values())  # unmatched kept too

    old = ids["/latin/2"]
    execute(
        database_url,
        "UPDATE page_captures SET fetched_at = fetched_at - INTERVAL '31 days' "
        f"WHERE article_id = {old}"
        if database_url.startswith("postgresql")
        else "UPDATE page_captures SET fetched_at = datetime(fetched_at, '-31 days') "
        f"WHERE article_id = {old}",
    )
    done = newswatch(cfg, database_url, "alerts", "run")
    assert done.returncode == 0, done.stderr
    assert set(captures(database_url)) == {ids["/moved/1"]}
    assert len(rows(database_url, "SELECT id FROM articles")) == 2  # the articles stay


def test_none_keeps_no_page(tmp_path, sqlite_url, outlet):
    ids = crawled(config(tmp_path, outlet, '[evidence]\nkeep = "none"\n'), sqlite_url)
    assert len(ids) == 2
    assert captures(sqlite_url) == {}
