"""CSV and JSONL export of a filtered view: the CLI's fields, every matching article."""

from __future__ import annotations

import csv
import io
import json

import pytest
from starlette.testclient import TestClient

from newswatch.commands.export import FIELDS
from tests import web_fixtures
from tests.web_fixtures import XSS_TITLE


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request, tmp_path_factory):
    yield from web_fixtures.site(request.param, tmp_path_factory.mktemp("export"))


@pytest.fixture(scope="module")
def client(site):
    with TestClient(site.app(page_size=2), base_url="http://localhost") as client:
        yield client


def test_jsonl_exports_every_article_of_the_view_not_one_page(client):
    response = client.get("/export.jsonl")
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert "attachment" in response.headers["content-disposition"]
    records = [json.loads(line) for line in response.text.splitlines()]
    assert len(records) == 8  # the page size is 2: the export is not paged
    assert list(records[0]) == list(FIELDS)
    assert records[0]["title"] == XSS_TITLE
    german = [json.loads(line) for line in client.get("/export.jsonl?lang=de").text.splitlines()]
    assert {r["source"] for r in german} == {"tagesschau"} and len(german) == 2
    searched = client.get("/export.jsonl?q=aktionsplan").text.splitlines()
    assert [json.loads(line)["title"] for line in searched] == [
        "Aktionsplan zwischen Belgien und Marokko"
    ]


def test_csv_has_the_cli_header_and_neutralises_formulas(client, site):
    response = client.get("/export.csv?source=hln")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == FIELDS
    assert len(rows) == 3
    assert {row["title"] for row in rows} >= {XSS_TITLE, "Undated background piece"}
    assert all(not row[f].startswith(("=", "+", "-", "@")) for row in rows for f in FIELDS)


def test_formula_cells_get_an_apostrophe():
    from newswatch.web.export import _csv

    out = "".join(_csv(iter([{name: None for name in FIELDS} | {"title": "=HYPERLINK(1)"}])))
    assert "'=HYPERLINK(1)" in out
