"""Reads on an exposed server: nothing without the token, a session from it, or a feed's key."""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from crawler.storage.engine import sessions
from crawler.storage.models.alerts import AlertDelivery
from newswatch.web.access import COOKIE, SESSION_SECONDS, feed_key, session_value
from newswatch.web.routes import routes
from tests import web_fixtures
from tests.web_fixtures import PUBLIC, TOKEN, parse_html

BASE = "https://news.example.org"
OPEN = {"/login"}  # the sign-in page; /static/ (stylesheet, icon) is open too


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request, tmp_path_factory):
    yield from web_fixtures.site(request.param, tmp_path_factory.mktemp("access"))


def stranger(site) -> TestClient:
    return TestClient(site.app(**PUBLIC), base_url=BASE, follow_redirects=False)


def signed_in(site) -> TestClient:
    client = stranger(site)
    response = client.post("/login", data={"token": TOKEN, "next": "/"})
    assert response.status_code == 303, response.text
    return client


def concrete(path: str, site) -> str:
    """A route's path with real ids and names in its parameters."""
    values = {
        "article_id": site.ids["mocro"],
        "story_id": site.ids["story_mocro"],
        "delivery_id": site.ids["delivery_dead"],
        "rule": "mocro-maffia",
        "tag": "be-ma-security",
    }
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: str(values[m[1]]), path)


def every_route(site) -> list[tuple[str, str]]:
    return sorted(
        (method, concrete(route.path, site))
        for route in routes(Path("."))
        if isinstance(route, Route) and route.path not in OPEN
        for method in route.methods - {"HEAD"}
    )


def test_every_route_refuses_a_stranger(site):
    found = every_route(site)
    assert ("GET", "/api/deliveries") in found and ("GET", "/export.csv") in found
    with stranger(site) as client:
        for method, path in found:
            response = client.request(method, path)
            where = f"{method} {path}"
            if method == "GET" and not path.startswith(("/api/", "/feeds/", "/export.")):
                assert response.status_code == 303, where  # to the sign-in page
                assert response.headers["location"].startswith("/login?next=")
            else:
                assert response.status_code == 401, where
            assert "Mocro" not in response.text and "ops-webhook" not in response.text, where
        api = client.get("/api/articles")
        assert api.headers["www-authenticate"].startswith("Bearer")
        # what the sign-in page needs is all that is open
        assert client.get("/login").status_code == 200
        assert client.get("/static/style.css").status_code == 200
    with sessions(site.engine)() as session:  # the retry posts changed nothing
        dead = session.get(AlertDelivery, site.ids["delivery_dead"])
        assert dead.state == "dead"


def test_signing_in_with_the_token_opens_the_pages_until_signing_out(site):
    with stranger(site) as client:
        first = client.get("/alerts?state=dead")
        assert first.headers["location"] == "/login?" + urlencode({"next": "/alerts?state=dead"})
        wrong = client.post("/login", data={"token": "wrong-token-0123456789", "next": "/"})
        assert wrong.status_code == 403 and "set-cookie" not in wrong.headers
        response = client.post("/login", data={"token": TOKEN, "next": "/alerts?state=dead"})
        assert response.status_code == 303
        assert response.headers["location"] == "/alerts?state=dead"
        cookie = response.headers["set-cookie"].lower()
        assert cookie.startswith(COOKIE) and "httponly" in cookie and "samesite=lax" in cookie
        assert "secure" in cookie  # the base URL is https
        assert TOKEN.lower() not in cookie  # the cookie is derived, not the token
        for path in [
            "/",
            "/alerts",
            "/sources",
            f"/stories/{site.ids['story_mocro']}",
            "/api/deliveries",
            "/export.jsonl",
        ]:
            response = client.get(path)
            assert response.status_code == 200, path
            # no shared cache (a proxy's) may hand one reader's answer to another
            assert response.headers["cache-control"].startswith("private"), path
        assert client.post("/logout").status_code == 303
        assert client.get("/").status_code == 303


def test_forged_expired_and_foreign_credentials_are_refused(site):
    now = time.time()
    expired = session_value(TOKEN, now - 2 * SESSION_SECONDS)
    other = session_value("another-token-0123456789", now)
    forged = f"{int(now) + 3600}.{'0' * 64}"
    with stranger(site) as client:
        for value in [expired, other, forged, "garbage", TOKEN]:
            client.cookies.set(COOKIE, value)
            assert client.get("/").status_code == 303, value
        client.cookies.clear()
        for header in [f"Bearer {TOKEN}x", "Bearer ", f"Basic {TOKEN}", TOKEN]:
            response = client.get("/api/articles", headers={"authorization": header})
            assert response.status_code == 401, header
        # a key opens only the URL it was made for, never a page or the API
        key = feed_key(TOKEN, "/feeds/rules/mocro-maffia", [])
        assert client.get(f"/feeds/rules/mocro-maffia?key={key}").status_code == 200
        for path in [
            "/feeds/rules/dgst",
            "/feeds/tags/be",
            "/feeds/search",
            "/export.csv",
            "/api/articles",
            "/",
        ]:
            assert client.get(f"{path}?key={key}").status_code in (303, 401), path
        assert client.get(f"/feeds/rules/mocro-maffia?key={key}&q=x").status_code == 401
        assert client.get("/feeds/rules/mocro-maffia?key=" + "0" * 32).status_code == 401


def test_the_token_as_bearer_reads_everything(site):
    with stranger(site) as client:
        bearer = {"authorization": f"Bearer {TOKEN}"}
        for path in [
            "/api/articles",
            "/api/deliveries",
            "/api/openapi.json",
            "/feeds/tags/be",
            "/export.csv",
            "/sources",
        ]:
            assert client.get(path, headers=bearer).status_code == 200, path


def feed_links(client) -> list[str]:
    """The Atom and export links a signed-in reader is offered, on pages and in the API."""
    links = [
        link
        for link in parse_html(client.get("/?lang=de&q=Antwerpen").text).links
        if link.startswith(("/feeds/", "/export."))
    ]
    links += [
        link for link in parse_html(client.get("/alerts").text).links if link.startswith("/feeds/")
    ]
    links += [
        rule["feed_url"].removeprefix(BASE) for rule in client.get("/api/rules").json()["items"]
    ]
    return links


def test_each_feed_link_carries_its_own_key_that_opens_it_alone(site):
    with signed_in(site) as reader:
        links = feed_links(reader)
    kinds = {urlsplit(link).path.split("/")[1] for link in links}
    assert kinds == {"feeds", "export.csv", "export.jsonl"}, links
    keys = set()
    with stranger(site) as client:  # a feed reader: no cookie, no header
        for link in links:
            assert TOKEN not in link
            response = client.get(link)
            assert response.status_code == 200, link
            parts = urlsplit(link)
            pairs = parse_qsl(parts.query, keep_blank_values=True)
            keys.add(dict(pairs)["key"])
            # the same key with the query changed, or on another path, opens nothing
            assert client.get(link + "&since=2000-01-01").status_code == 401, link
            assert client.get(f"/api/articles?{parts.query}").status_code == 401
    assert len(keys) == len(set(links))  # one key per distinct URL


def test_the_feed_id_does_not_depend_on_the_key(site):
    with stranger(site) as client:
        bearer = client.get("/feeds/tags/be", headers={"authorization": f"Bearer {TOKEN}"})
        keyed = client.get(f"/feeds/tags/be?key={feed_key(TOKEN, '/feeds/tags/be', [])}")
    feed_id = re.compile(rb"<id>(urn:uuid:[^<]+)</id>")
    assert feed_id.search(bearer.content)[1] == feed_id.search(keyed.content)[1]


def test_sign_in_refuses_foreign_pages_and_sends_nobody_elsewhere(site):
    with stranger(site) as client:
        for headers in [{"sec-fetch-site": "cross-site"}, {"origin": "https://evil.example"}]:
            response = client.post("/login", data={"token": TOKEN}, headers=headers)
            assert response.status_code == 403 and "set-cookie" not in response.headers
        for target in ["//evil.example/", "https://evil.example/", "/\\evil.example", "x"]:
            response = client.post("/login", data={"token": TOKEN, "next": target})
            assert response.headers["location"] == "/", target
        # the browser of the base URL's origin (a proxy speaking https) may sign in
        ok = client.post("/login", data={"token": TOKEN}, headers={"origin": BASE})
        assert ok.status_code == 303


def test_on_loopback_reads_stay_open_and_links_carry_no_key(site):
    with TestClient(site.app(), base_url="http://localhost") as client:
        for path in ["/", "/alerts", "/api/deliveries", "/feeds/tags/be", "/export.csv"]:
            assert client.get(path).status_code == 200, path
        assert all("key=" not in link for link in parse_html(client.get("/").text).links)
        assert not [
            f for f in parse_html(client.get("/").text).tags("form") if f.get("action") == "/logout"
        ]
