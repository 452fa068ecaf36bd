"""Safety: hostile articles render as text, strict headers, Host checks, absolute links
from the base URL, guarded actions."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from crawler.storage.engine import sessions
from crawler.storage.models.alerts import AlertDelivery
from newswatch.web import UnsafeBind, WebOptions, create_app
from newswatch.web.security import CSP
from tests import web_fixtures
from tests.web_fixtures import PUBLIC, TOKEN, XSS_TITLE, parse_html

ATOM = {"a": "http://www.w3.org/2005/Atom"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request, tmp_path_factory):
    yield from web_fixtures.site(request.param, tmp_path_factory.mktemp("security"))


@pytest.fixture(scope="module")
def client(site):
    with TestClient(site.app(), base_url="http://localhost") as client:
        yield client


def every_page(site) -> list[str]:
    ids = site.ids
    return [
        "/",
        "/?q=razzia",
        "/?q=script",
        "/?q=onerror",
        f"/articles/{ids['xss']}",
        f"/stories/{ids['story_mocro']}",
        "/alerts",
        "/sources",
        "/nowhere",
    ] + [f"/stories/{n}" for n in range(1, 12)]


def test_hostile_article_renders_as_text_everywhere(client, site):
    for path in every_page(site):
        response = client.get(path)
        html = parse_html(response.text)
        assert not html.tags("script"), f"{path} has a <script> element"
        assert not html.tags("img") and not html.tags("svg"), f"{path} has injected media"
        handlers = [
            (tag, name) for tag, attrs in html.elements for name in attrs if name.startswith("on")
        ]
        assert not handlers, f"{path} has event handler attributes {handlers}"
        for link in html.links:
            assert urlsplit(link).scheme in ("", "http", "https"), f"{path} links to {link}"
    article = parse_html(client.get(f"/articles/{site.ids['xss']}").text)
    assert XSS_TITLE in article.text  # shown, literally
    assert "javascript:window.__xss=4" in article.text  # the address, as inert text
    assert '"><script>x</script>' in article.text  # the author too


def test_every_response_carries_a_strict_policy(client, site):
    for path in [
        *every_page(site)[:4],
        "/feeds/search?q=x",
        "/api/articles",
        "/export.csv",
        "/static/style.css",
    ]:
        headers = client.get(path).headers
        assert headers["content-security-policy"] == CSP, path
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY"
    assert "script-src" not in CSP and "default-src 'none'" in CSP


def test_foreign_host_names_are_refused_on_loopback(client):
    assert client.get("/", headers={"host": "attacker.example"}).status_code == 400
    assert client.get("/", headers={"host": "127.0.0.1:8080"}).status_code == 200
    assert client.get("/", headers={"host": "[::1]:8080"}).status_code == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "news.example.org"])
def test_refuses_to_serve_beyond_loopback_without_token_names_and_base(host):
    names, base = ("news.example.org",), "https://news.example.org"
    with pytest.raises(UnsafeBind, match="NEWSWATCH_WEB_TOKEN") as caught:
        WebOptions(host=host, hosts=names, base_url=base)
    assert caught.value.key is None
    with pytest.raises(UnsafeBind, match="allowed_hosts") as caught:
        WebOptions(host=host, token=TOKEN, base_url=base)
    assert caught.value.key == "web.allowed_hosts"
    with pytest.raises(UnsafeBind, match="base_url") as caught:
        WebOptions(host=host, token=TOKEN, hosts=names)
    assert caught.value.key == "web.base_url"
    options = WebOptions(host=host, token=TOKEN, hosts=names, base_url=base)
    assert options.allowed_hosts == names and options.reads_need_token


def test_a_public_name_on_loopback_means_a_proxy_and_needs_the_token_too():
    names, base = ("news.example.org",), "https://news.example.org"
    with pytest.raises(UnsafeBind, match="NEWSWATCH_WEB_TOKEN"):
        WebOptions(hosts=names, base_url=base)
    with pytest.raises(UnsafeBind, match=r"base_url names news\.example\.org"):
        WebOptions(base_url=base)
    options = WebOptions(token=TOKEN, hosts=names, base_url=base)
    assert options.reads_need_token
    assert options.allowed_hosts == ("news.example.org", "localhost", "127.0.0.1", "[::1]")
    assert not WebOptions(base_url="http://127.0.0.1:8080").reads_need_token


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_needs_no_token(host):
    assert WebOptions(host=host).loopback


def test_a_short_token_is_refused():
    with pytest.raises(UnsafeBind, match="too short"):
        WebOptions(token="1234")


def states(engine) -> dict[int, str]:
    with sessions(engine)() as session:
        return dict(session.execute(select(AlertDelivery.id, AlertDelivery.state)).all())


@pytest.fixture
def fresh(engine):
    """A populated database of its own: these tests change delivery states."""
    return web_fixtures.Site(engine, web_fixtures.settings(), web_fixtures.populate(engine))


def test_retry_from_the_alert_log_requeues_the_dead_delivery(fresh):
    dead = fresh.ids["delivery_dead"]
    with TestClient(fresh.app(), base_url="http://localhost", follow_redirects=False) as client:
        # what Chromium sends from our own form: no-referrer pages send a "null" origin
        response = client.post(
            "/alerts/retry",
            data={"id": str(dead)},
            headers={"sec-fetch-site": "same-origin", "origin": "null"},
        )
        assert response.status_code == 303
        assert states(fresh.engine)[dead] == "pending"
        shown = client.get(response.headers["location"]).text
        assert "Re-queued 1 dead delivery" in parse_html(shown).text
        # nothing dead is left: retrying it again changes nothing
        client.post("/alerts/retry", data={"id": "all"})
        assert sorted(states(fresh.engine).values()) == ["pending", "pending", "sent"]


def test_cross_site_posts_are_refused(fresh):
    dead = fresh.ids["delivery_dead"]
    with TestClient(fresh.app(), base_url="http://localhost") as client:
        for headers in [
            {"sec-fetch-site": "cross-site"},
            {"origin": "http://evil.example"},
            {"origin": "null"},  # and no Sec-Fetch-Site to vouch for it
            {"origin": "null", "sec-fetch-site": "same-site"},
        ]:
            response = client.post("/alerts/retry", data={"id": str(dead)}, headers=headers)
            assert response.status_code == 403, headers
        assert client.get("/alerts/retry").status_code == 405  # GET never changes anything
        too_big = client.post(
            "/alerts/retry",
            content=b"id=1&" * 10_000,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert too_big.status_code == 413
        many = client.post("/alerts/retry", data={f"f{n}": "x" for n in range(20)})
        assert many.status_code == 400
    assert states(fresh.engine)[dead] == "dead"


def test_with_a_token_actions_need_it(fresh):
    dead = fresh.ids["delivery_dead"]
    app = create_app(fresh.engine, fresh.settings, WebOptions(token=TOKEN))
    with TestClient(app, base_url="http://localhost", follow_redirects=False) as client:
        html = parse_html(client.get("/alerts").text)
        assert "token" in {i.get("name") for i in html.tags("input")}
        for data in [{"id": str(dead)}, {"id": str(dead), "token": "wrong-token-0123456789"}]:
            assert client.post("/alerts/retry", data=data).status_code == 403
        assert client.post(f"/api/deliveries/{dead}/retry").status_code == 403
        assert states(fresh.engine)[dead] == "dead"
        ok = client.post(
            f"/api/deliveries/{dead}/retry", headers={"authorization": f"Bearer {TOKEN}"}
        )
        assert ok.status_code == 200 and ok.json() == {"requeued": 1}
    assert states(fresh.engine)[dead] == "pending"


def test_read_only_offers_and_accepts_no_action(fresh):
    dead = fresh.ids["delivery_dead"]
    with TestClient(fresh.app(read_only=True), base_url="http://localhost") as client:
        assert not parse_html(client.get("/alerts").text).tags("form")[1:]  # only the search
        assert client.post("/alerts/retry", data={"id": str(dead)}).status_code == 403
        assert client.post(f"/api/deliveries/{dead}/retry").status_code == 403
    assert states(fresh.engine)[dead] == "dead"


def test_exposed_app_refuses_foreign_hosts_and_actions_still_need_the_token(fresh):
    app = create_app(fresh.engine, fresh.settings, WebOptions(**PUBLIC))
    bearer = {"authorization": f"Bearer {TOKEN}"}
    with TestClient(app, base_url="https://news.example.org") as client:
        for host in ["attacker.example", "localhost", "127.0.0.1:8080", "news.example.org.evil"]:
            response = client.get("/api/articles", headers={**bearer, "host": host})
            assert response.status_code == 400, host
            assert response.headers["content-security-policy"] == CSP
        assert client.get("/api/articles", headers=bearer).status_code == 200
        signed_in = client.post("/login", data={"token": TOKEN}, follow_redirects=False)
        assert signed_in.status_code == 303  # a session reads, but acting needs the token
        dead = fresh.ids["delivery_dead"]
        assert client.post("/alerts/retry", data={"id": str(dead)}).status_code == 403
        response = client.post("/alerts/retry", data={"id": str(dead), "token": TOKEN})
        assert response.status_code == 200  # followed the redirect to the alert log
    assert states(fresh.engine)[dead] == "pending"


def atom_links(document: bytes) -> dict[str, str]:
    root = ET.fromstring(document)
    found = {link.get("rel"): link.get("href") for link in root.findall("a:link", ATOM)}
    found["related"] = root.find("a:entry/a:link[@rel='related']", ATOM).get("href")
    return found


def test_absolute_links_come_from_the_base_url_never_from_the_host(site):
    options = {**PUBLIC, "hosts": ("news.example.org", "alias.example.org")}
    bearer = {"authorization": f"Bearer {TOKEN}"}
    with TestClient(
        site.app(page_size=2, **options), base_url="http://alias.example.org"
    ) as client:
        links = atom_links(client.get("/feeds/tags/be", headers=bearer).content)
        assert links["self"] == "https://news.example.org/feeds/tags/be"
        assert links["alternate"] == "https://news.example.org/?tag=be"
        assert links["related"].startswith("https://news.example.org/stories/")
        api = client.get("/api/articles", headers=bearer).json()
        assert api["next_url"].startswith("https://news.example.org/api/articles?after=")
        assert api["items"][0]["html_url"].startswith("https://news.example.org/articles/")
        rules = client.get("/api/rules", headers=bearer).json()["items"]
        assert rules[0]["feed_url"].startswith("https://news.example.org/feeds/rules/")
        spec = client.get("/api/openapi.json", headers=bearer).json()
        assert spec["servers"] == [{"url": "https://news.example.org"}]
    # on loopback too, once a base URL is configured
    with TestClient(
        site.app(base_url="http://127.0.0.1:9000"), base_url="http://localhost"
    ) as client:
        links = atom_links(client.get("/feeds/search?q=Antwerpen").content)
        assert links["self"] == "http://127.0.0.1:9000/feeds/search?q=Antwerpen"
        assert links["related"].startswith("http://127.0.0.1:9000/stories/")
