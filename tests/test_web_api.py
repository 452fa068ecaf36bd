"""The JSON API and its OpenAPI description: every endpoint, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from newswatch.web.routes import routes
from tests import web_fixtures
from tests.web_fixtures import XSS_TITLE


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request, tmp_path_factory):
    yield from web_fixtures.site(request.param, tmp_path_factory.mktemp("api"))


@pytest.fixture(scope="module")
def client(site):
    with TestClient(site.app(), base_url="http://localhost") as client:
        yield client


@pytest.fixture(scope="module")
def spec(client):
    return client.get("/api/openapi.json").json()


def get(client, path: str, status: int = 200):
    response = client.get(path)
    assert response.status_code == status, f"{path}: {response.text[:300]}"
    assert response.headers["content-type"] == "application/json"
    return response.json()


def documented(spec, name: str) -> set[str]:
    schema = spec["components"]["schemas"][name]
    parts = schema.get("allOf", [schema])
    names = set()
    for part in parts:
        if "$ref" in part:
            names |= documented(spec, part["$ref"].rsplit("/", 1)[1])
        names |= set(part.get("properties", {}))
    return names


def test_the_description_covers_every_api_route(spec):
    served = {
        (route.path.replace(":int", ""), method.lower())
        for route in routes(Path("."))
        if isinstance(route, Route) and route.path.startswith("/api/")
        for method in route.methods - {"HEAD"}
    }
    described = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert served == described
    assert spec["openapi"].startswith("3.1")
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            assert operation.get("summary"), f"{method} {path} has no summary"
            for reference in _refs(operation):
                assert reference.rsplit("/", 1)[1] in spec["components"]["schemas"], reference


def _refs(value):
    if isinstance(value, dict):
        if "$ref" in value:
            yield value["$ref"]
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def test_articles_newest_first_searched_and_paged(client, spec, site):
    everything = get(client, "/api/articles")
    assert everything["items"][0]["title"] == XSS_TITLE  # as stored: escaping is the reader's job
    assert set(everything["items"][0]) <= documented(spec, "Article")
    assert everything["next"] is None
    found = get(client, "/api/articles?q=aktionsplan")["items"]
    assert [a["title"] for a in found] == ["Aktionsplan zwischen Belgien und Marokko"]
    assert found[0]["title_highlights"] == [[0, 11]]
    assert found[0]["snippet"]["highlights"] == [[4, 15]]
    assert {a["language"] for a in get(client, "/api/articles?lang=de&lang=ar")["items"]} == {
        "de",
        "ar",
    }
    pages, url = [], "/api/articles?source=hln"
    while url:
        page = get(client, url.removeprefix("http://localhost"))
        pages.append([a["id"] for a in page["items"]])
        url = page["next_url"]
    assert len(pages) == 1  # page size 50: all on one page
    assert get(client, "/api/articles?since=nope", 400) == {
        "error": "since: 'nope' is not a date like 2026-11-29"
    }


def test_small_pages_chain_through_next(site):
    with TestClient(site.app(page_size=3), base_url="http://localhost") as small:
        seen, url = [], "/api/articles"
        while url:
            page = small.get(url).json()
            seen += [a["id"] for a in page["items"]]
            url = page["next_url"] and page["next_url"].removeprefix("http://localhost")
        assert len(seen) == len(set(seen)) == 8


def test_article_and_story(client, spec, site):
    article = get(client, f"/api/articles/{site.ids['mocro']}")
    assert article["text"].startswith("De politie heeft")
    assert set(article) <= documented(spec, "ArticleDetail")
    assert len(article["story_members"]) == 3
    story = get(client, f"/api/stories/{site.ids['story_mocro']}")
    assert story["size"] == 3 and story["outlets"] == ["HLN", "le-soir", "tagesschau"]
    assert story["members"][0]["story_reason"] == "first"
    assert set(story) <= documented(spec, "Story")
    get(client, "/api/articles/999999", 404)
    get(client, "/api/stories/999999", 404)


def test_rules_deliveries_and_sources(client, site):
    rules = {r["name"]: r for r in get(client, "/api/rules")["items"]}
    assert list(rules) == ["mocro-maffia", "dgst", "quiet"]
    assert rules["mocro-maffia"]["matches"] == 1 and rules["quiet"]["matches"] == 0
    assert rules["dgst"]["feed_url"] == "http://localhost/feeds/rules/dgst"
    deliveries = get(client, "/api/deliveries")
    assert deliveries["counts"] == {"sent": 1, "dead": 1, "pending": 1}
    dead = get(client, "/api/deliveries?state=dead")["items"]
    assert [(d["channel"], d["last_error"]) for d in dead] == [
        ("ops-webhook", "HTTP 500 <b>boom</b>")
    ]
    assert dead[0]["story_id"] == site.ids["story_mocro"]
    assert get(client, "/api/deliveries?rule=dgst")["items"][0]["state"] == "pending"
    get(client, "/api/deliveries?state=lost", 400)
    get(client, "/api/deliveries?before=x", 400)
    sources = {s["name"]: s for s in get(client, "/api/sources")["items"]}
    assert sources["hln"]["articles"] == 3 and sources["rtbf"]["health"] == "never run"


def test_retry_endpoint_answers_404_and_409(client, site):
    assert client.post("/api/deliveries/999999/retry").status_code == 404
    sent = site.ids["delivery_sent"]
    response = client.post(f"/api/deliveries/{sent}/retry")
    assert response.status_code == 409 and "only a dead delivery" in response.json()["error"]


def test_the_index_lists_every_described_endpoint(client, spec):
    index = get(client, "/api/")
    listed = {(e["path"], e["method"].lower()) for e in index["endpoints"]}
    assert listed == {(path, method) for path, item in spec["paths"].items() for method in item}
    assert ("/api/stories", "get") in listed and ("/api/", "get") in listed
    assert all(
        e["summary"] and e["url"] == "http://localhost" + e["path"] for e in index["endpoints"]
    )
    assert index["openapi_url"] == "http://localhost/api/openapi.json"
    assert set(index) <= documented(spec, "Index")


def test_articles_take_the_rule_language_a_limit_and_an_order(client, site):
    mocro = {site.ids[key] for key in ("mocro", "mocro_copy", "mocro_near")}
    assert {a["id"] for a in get(client, "/api/articles?q=mocromaffia")["items"]} == mocro
    hits = get(client, "/api/articles?q=title%3ADGST+OR+lang%3Aar")["items"]
    assert {a["language"] for a in hits} == {"fr", "ar"}
    found = get(client, "/api/articles?q=Mocro-Maffia&limit=1")
    assert len(found["items"]) == 1 and found["partial"] is False
    assert found["items"][0]["title"].startswith("Mocromaffia:")  # the newest spelling
    assert found["items"][0]["title_highlights"] == [[0, 11]]
    seen, url = [], "/api/articles?q=mocromaffia&order=relevance&limit=1"
    while url:
        page = get(client, url.removeprefix("http://localhost"))
        seen += [a["id"] for a in page["items"]]
        assert page["next"] is None or page["next"].startswith("r")
        url = page["next_url"]
    assert sorted(seen) == sorted(mocro)
    for bad in ["limit=0", "limit=201", "limit=x", "order=best", "q=x&order=relevance&after=-~1"]:
        assert "error" in get(client, f"/api/articles?{bad}", 400), bad


def test_a_query_error_is_a_400_with_its_position(client, spec):
    error = get(client, "/api/articles?q=Mocro+AND+%28", 400)
    assert error == {"error": "q: missing ')' to close the '(' at position 11", "position": 11}
    assert set(error) <= documented(spec, "Error")
    assert get(client, "/api/stories?q=title%3A", 400)["position"] == 7
    assert get(client, "/api/articles?q=%3F%3F%3F")["items"] == []  # nothing to search for


def test_stories_are_listed_once_at_their_first_article(client, spec, site):
    page = get(client, "/api/stories?q=antwerpen")
    xss = get(client, f"/api/articles/{site.ids['xss']}")["story_id"]
    assert [s["id"] for s in page["items"]] == [xss, site.ids["story_mocro"]]
    mocro = page["items"][1]
    assert mocro["size"] == 3 and mocro["outlets"] == ["HLN", "le-soir", "tagesschau"]
    assert mocro["article"]["id"] == site.ids["mocro_near"]  # its newest copy in the search
    assert mocro["article"]["title_highlights"] == [[27, 36]]
    assert mocro["api_url"] == f"http://localhost/api/stories/{site.ids['story_mocro']}"
    item = spec["components"]["schemas"]["StoryPage"]["properties"]["items"]["items"]
    assert set(mocro) <= set(item["properties"]) and set(page) <= documented(spec, "StoryPage")
    stories, url = [], "/api/stories?limit=1"
    while url:
        page = get(client, url.removeprefix("http://localhost"))
        stories += [s["id"] for s in page["items"]]
        url = page["next_url"]
    assert len(stories) == len(set(stories)) == 6  # eight articles, six stories
    german = get(client, "/api/stories?lang=de&order=relevance&q=antwerpen")["items"]
    assert [s["article"]["language"] for s in german] == ["de"]
