"""Loading newswatch.toml: the default config is valid; every problem is named at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crawler.sources import CrawlOptions
from crawler.storage.engine import open_engine
from newswatch.settings import (
    ConfigError,
    cores,
    load_settings,
    locate_config,
    parse_settings,
    user_config_dir,
)

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "newswatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_config_is_valid_and_follows_the_topic():
    settings = load_settings(ROOT / "config" / "newswatch.toml", env={})
    languages = {source.language for source in settings.sources}
    assert {"fr", "nl", "de", "en", "ar"} <= languages
    # outlets by their homepages (no guessed feed address), and the topic searched for
    kinds = {source.kind for source in settings.sources}
    assert kinds == {"site", "search"}
    searches = [source for source in settings.sources if source.kind == "search"]
    assert {source.language for source in searches} == {"fr", "nl", "de", "en"}
    assert all("be-ma-security" in source.tags for source in searches)
    assert settings.topics[0].name == "be-ma-security"
    assert settings.database_url == "sqlite:///newswatch.db"
    assert settings.crawl.extraction_workers >= 1


def test_default_config_writes_the_defaults_the_readme_documents():
    settings = load_settings(ROOT / "config" / "newswatch.toml", env={})
    without = parse_settings({}, Path("empty.toml"), {})  # the code's defaults
    # "auto" in the file and in the README ("one per core"), and when the key is absent
    assert settings.crawl.extraction_workers == without.crawl.extraction_workers == cores()
    assert settings.service.workers == without.service.workers == cores()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'workers = "auto"' in readme and "(one per core)" in readme
    assert "extraction processes (one per core by default" in readme
    names = (
        "max_page_bytes",
        "download_timeout",
        "concurrency",
        "per_domain_concurrency",
        "retries",
        "max_articles_per_source",
        "retry_schedule",
        "download_delay",
        "extraction_workers",
    )
    for name in names:
        assert getattr(settings.crawl, name) == getattr(without.crawl, name), name
        assert getattr(CrawlOptions(), name) == getattr(without.crawl, name), name
    assert settings.default_interval == without.default_interval
    assert settings.service.polling == without.service.polling


def test_environment_overrides_the_database(tmp_path):
    path = write(tmp_path, '[storage]\ndatabase_url = "sqlite:///a.db"\n')
    settings = load_settings(path, env={"NEWSWATCH_DATABASE_URL": "sqlite:///b.db"})
    assert settings.database_url == "sqlite:///b.db"


def test_every_problem_is_reported_with_its_key(tmp_path):
    path = write(
        tmp_path,
        """
[crawl]
timeout = "soon"
concurency = 4

[[sources]]
name = "a"
kind = "rss"
url = "ftp://example.org/feed"

[[sources]]
kind = "listing"
url = "https://example.org/"
link_pattern = "(["

[[sources]]
name = "a"
kind = "feed"
url = "https://example.org/other"
""",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    lines = caught.value.lines()
    text = "\n".join(lines)
    assert all(line.startswith(f"{path}: ") for line in lines)
    assert "crawl.timeout: must be a duration" in text
    assert "crawl.concurency: unknown key (did you mean 'concurrency'?)" in text
    assert "sources[0].kind: must be one of feed, sitemap, listing, site, search (got" in text
    assert "sources[0].urls[0]: must be an http(s) address" in text
    assert "sources[1].name: is required" in text
    assert "sources[1].link_pattern: not a valid regular expression" in text
    assert "sources: the name 'a' is used twice" in text


def test_toml_syntax_error_names_the_line(tmp_path):
    path = write(tmp_path, '[crawl]\ntimeout = "20s\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert "(syntax): not valid TOML" in str(caught.value)
    assert "line 2" in str(caught.value)


def test_command_line_prints_config_errors_without_a_traceback(tmp_path):
    path = write(tmp_path, '[[sources]]\nname = "x"\nkind = "feed"\n')
    result = subprocess.run(
        [sys.executable, "-m", "newswatch", "--config", str(path), "crawl"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"config error: {path}: sources[0].urls: give the source's" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path / "nope.toml", env={})
    assert "(file): no such file" in str(caught.value)


def test_example_alerts_config_is_valid():
    env = {
        "NEWSWATCH_WEBHOOK_SECRET": "s",
        "NEWSWATCH_SMTP_USER": "u",
        "NEWSWATCH_SMTP_PASSWORD": "p",
    }
    settings = load_settings(ROOT / "config" / "examples" / "alerts.toml", env=env)
    assert {rule.name for rule in settings.alerts.rules} >= {"mocro-maffia", "aktionsplan"}


def test_unsupported_database_is_a_config_error(tmp_path):
    path = write(tmp_path, '[storage]\ndatabase_url = "oracle://scott@db/x"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert "storage.database_url: unsupported database 'oracle'" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path / "newswatch.toml", env={"NEWSWATCH_DATABASE_URL": "nonsense"})
    assert "$NEWSWATCH_DATABASE_URL" in str(caught.value)


def test_web_names_and_base_url_are_read_and_checked(tmp_path):
    path = write(
        tmp_path,
        '[web]\nallowed_hosts = ["News.Example.org", "*.example.net", "[2001:db8::1]"]\n'
        'base_url = "https://news.example.org/"\n',
    )
    web = load_settings(path, env={}).web
    assert web.allowed_hosts == ("news.example.org", "*.example.net", "[2001:db8::1]")
    assert web.base_url == "https://news.example.org"
    assert load_settings(write(tmp_path, ""), env={}).web.base_url is None

    path = write(
        tmp_path,
        '[web]\nallowed_hosts = ["*", "news.example.org:8080", "https://x.example", "a.*.org"]\n'
        'base_url = "https://news.example.org/newswatch?x=1"\nbase = "x"\n',
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    text = str(caught.value)
    assert "web.allowed_hosts[0]: '*' would accept any Host header" in text
    for index in (1, 2, 3):
        assert f"web.allowed_hosts[{index}]: must be a host name such as" in text
    assert "web.base_url: must be the http(s) address clients use" in text
    assert "web.base: unknown key (did you mean 'base_url'?)" in text
    for bad in [
        "ftp://news.example.org",
        "https://user:pw@news.example.org",
        "news.example.org",
        "https://news.example.org:port",
    ]:
        with pytest.raises(ConfigError, match=r"web\.base_url: must be"):
            load_settings(write(tmp_path, f'[web]\nbase_url = "{bad}"\n'), env={})


def test_example_web_config_is_valid():
    web = load_settings(ROOT / "config" / "examples" / "web.toml", env={}).web
    assert web.allowed_hosts == ("news.example.org",)
    assert web.base_url == "https://news.example.org"


# -- news-search sources and topics ---------------------------------------------------


def config_problems(tmp_path: Path, text: str) -> str:
    """The config errors of a file, as the command line prints them."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert all(line.startswith(f"{path}: ") for line in caught.value.lines())
    return str(caught.value)


def test_a_search_source_gets_its_providers_result_address(tmp_path):
    path = write(
        tmp_path,
        """
[[sources]]
name = "mocro-gdelt"
kind = "search"
provider = "gdelt"
query = '"Mocro Maffia" OR mocromaffia'
language = "nl"
region = "BE"
tags = ["be"]

[[sources]]
name = "maroc-google"
kind = "search"
provider = "google_news"
query = "Maroc Belgique"
language = "fr"
endpoint = "http://127.0.0.1:8123/rss/search"
allow_private_links = true
""",
    )
    gdelt, google = load_settings(path, env={}).sources
    assert (gdelt.kind, gdelt.provider, gdelt.language, gdelt.region) == (
        "search",
        "gdelt",
        "nl",
        "BE",
    )
    assert gdelt.query == '"Mocro Maffia" OR mocromaffia'
    (url,) = gdelt.urls
    assert url.startswith("https://api.gdeltproject.org/api/v2/doc/doc?query=")
    assert "sourcelang%3Adutch+sourcecountry%3Abelgium" in url
    assert google.urls == (
        "http://127.0.0.1:8123/rss/search?q=Maroc+Belgique&hl=fr&gl=FR&ceid=FR:fr",
    )
    assert google.own_hosts == {"127.0.0.1"}


def test_a_topic_expands_into_one_search_source_per_provider_and_language(tmp_path):
    path = write(
        tmp_path,
        """
[[topics]]
name = "be-ma-security"
providers = ["google_news", "gdelt"]
region = "BE"
endpoints = { google_news = "http://127.0.0.1:8123/rss/search" }

[topics.queries]
fr = '"Maroc" AND "Belgique" AND (police OR terrorisme)'
nl = 'Marokko AND België AND politie'
""",
    )
    settings = load_settings(path, env={})
    names = [source.name for source in settings.sources]
    assert names == [
        "be-ma-security-google-news-fr",
        "be-ma-security-gdelt-fr",
        "be-ma-security-google-news-nl",
        "be-ma-security-gdelt-nl",
    ]
    google_fr, gdelt_fr, _, gdelt_nl = settings.sources
    assert all(source.kind == "search" for source in settings.sources)
    assert all(source.tags == ("be-ma-security",) for source in settings.sources)
    assert (google_fr.provider, google_fr.language, google_fr.region) == ("google_news", "fr", "BE")
    assert google_fr.urls[0].startswith("http://127.0.0.1:8123/rss/search?q=")
    assert google_fr.urls[0].endswith("&hl=fr&gl=BE&ceid=BE:fr")
    assert gdelt_fr.urls[0].startswith("https://api.gdeltproject.org/")
    assert "sourcelang%3Adutch" in gdelt_nl.urls[0]
    assert gdelt_nl.query == "Marokko AND België AND politie"
    topic = settings.topics[0]
    assert topic.providers == ("google_news", "gdelt")
    assert dict(topic.queries)["nl"] == "Marokko AND België AND politie"


def test_a_topic_without_queries_has_no_search_sources(tmp_path):
    settings = load_settings(write(tmp_path, '[[topics]]\nname = "t"\n'), env={})
    assert settings.sources == ()
    assert settings.topics[0].queries == ()


def test_search_source_problems_name_file_and_key(tmp_path):
    text = config_problems(
        tmp_path,
        """
[[sources]]
name = "no-provider"
kind = "search"
query = "Maroc"

[[sources]]
name = "unknown-provider"
kind = "search"
provider = "yahoo_news"
query = "Maroc"

[[sources]]
name = "empty-query"
kind = "search"
provider = "bing_news"
query = "  "

[[sources]]
name = "no-query"
kind = "search"
provider = "gdelt"

[[sources]]
name = "with-url"
kind = "search"
provider = "gdelt"
query = "Maroc"
url = "https://api.gdeltproject.org/api/v2/doc/doc?query=Maroc"
endpoint = "ftp://mirror.example/doc"

[[sources]]
name = "bad-query"
kind = "search"
provider = "gdelt"
query = "(Maroc OR Belgique"

[[sources]]
name = "feed-with-query"
kind = "feed"
url = "https://example.org/feed"
query = "Maroc"
""",
    )
    assert "sources[0].provider: a search source needs one of google_news, bing_news" in text
    assert (
        "sources[1].provider: must be one of google_news, bing_news, gdelt (got 'yahoo_news')"
    ) in text
    assert "sources[2].query: must be a non-empty query" in text
    assert "sources[3].query: a search source needs a query" in text
    assert "sources[4].url: a search source has no address of its own" in text
    assert "sources[4].endpoint: must be an http(s) base URL" in text
    assert "sources[5].query: gdelt: has a '(' without its ')'" in text
    assert 'sources[6].query: only for kind = "search"' in text
    assert "Traceback" not in text


def test_search_locale_problems_name_their_key(tmp_path):
    text = config_problems(
        tmp_path,
        """
[[sources]]
name = "a"
kind = "search"
provider = "gdelt"
query = "Maroc"
language = "xx"

[[sources]]
name = "b"
kind = "search"
provider = "bing_news"
query = "Maroc"
region = "Belgium"
""",
    )
    assert "sources[0].language: gdelt: GDELT does not know the language 'xx'" in text
    assert "sources[1].region: bing_news: must be a two-letter country code" in text


def test_topic_search_problems_name_file_and_key(tmp_path):
    text = config_problems(
        tmp_path,
        """
[[topics]]
name = "t"
providers = ["google_news", "altavista"]
region = "ZZ"
endpoints = { gdelt = "not a url", bing = "http://127.0.0.1:1/" }

[topics.queries]
fr = ""
French = "Maroc"
nl = '"Marokko'

[[topics]]
name = "u"
providers = ["gdelt"]

[[topics]]
name = "v"
queries = {}
""",
    )
    assert (
        "topics[0].providers[1]: must be one of google_news, bing_news, gdelt (got 'altavista')"
        in text
    )
    assert "topics[0].endpoints.gdelt: must be an http(s) base URL" in text
    assert "topics[0].endpoints.bing: unknown key (did you mean 'bing_news'?)" in text
    assert "topics[0].queries.fr: must be a non-empty query" in text
    assert 'topics[0].queries.French: must be named by a language code such as "fr"' in text
    assert "topics[0].queries.nl: google_news: has an unclosed quote" in text
    assert text.count("topics[0].queries.nl:") == 1, "one problem per key, not per provider"
    assert "topics[1].providers: only with queries" in text
    assert "topics[2].queries: name each query by its language" in text


def test_topic_search_names_must_not_clash_with_sources(tmp_path):
    text = config_problems(
        tmp_path,
        """
[[topics]]
name = "t"
providers = ["gdelt"]
queries = { fr = "Maroc" }

[[sources]]
name = "t-gdelt-fr"
kind = "feed"
url = "https://example.org/feed"
""",
    )
    assert "sources: the name 't-gdelt-fr' is used twice" in text


def test_a_site_source_takes_a_homepage(tmp_path):
    path = write(
        tmp_path,
        '[[sources]]\nname = "bruzz"\nkind = "site"\nurl = "https://www.bruzz.be/"\n',
    )
    (source,) = load_settings(path, env={}).sources
    assert (source.kind, source.urls) == ("site", ("https://www.bruzz.be/",))


def test_example_search_config_is_valid():
    settings = load_settings(ROOT / "config" / "examples" / "search.toml", env={})
    kinds = {(source.provider, source.language) for source in settings.sources}
    assert ("gdelt", "nl") in kinds
    assert {"google_news", "bing_news", "gdelt"} <= {provider for provider, _ in kinds}
    assert all(source.urls for source in settings.sources)


def test_command_line_prints_search_config_errors_without_a_traceback(tmp_path):
    path = write(tmp_path, '[[sources]]\nname = "x"\nkind = "search"\nquery = "Maroc"\n')
    result = subprocess.run(
        [sys.executable, "-m", "newswatch", "--config", str(path), "crawl"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"config error: {path}: sources[0].provider: a search source needs one of" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_config_is_looked_for_in_the_documented_order(tmp_path, monkeypatch):
    work, xdg = tmp_path / "work", tmp_path / "xdg"
    work.mkdir()
    monkeypatch.chdir(work)
    env = {"XDG_CONFIG_HOME": str(xdg)}
    with pytest.raises(ConfigError) as caught:
        locate_config(None, env)
    (line,) = caught.value.lines()
    assert "(file): no configuration found: looked for ./newswatch.toml, " in line
    assert f"./config/newswatch.toml, {xdg / 'newswatch' / 'newswatch.toml'} " in line
    assert f"(working directory {work})" in line and "--config FILE or $NEWSWATCH_CONFIG" in line
    found = []
    for place in (
        xdg / "newswatch" / "newswatch.toml",
        Path("config/newswatch.toml"),
        Path("newswatch.toml"),
    ):
        place.parent.mkdir(parents=True, exist_ok=True)
        place.write_text("", encoding="utf-8")
        location = locate_config(None, env)
        found.append((location.path, location.origin))
    assert found == [
        (xdg / "newswatch" / "newswatch.toml", "found in the user config directory"),
        (Path("config/newswatch.toml"), "found as ./config/newswatch.toml"),
        (Path("newswatch.toml"), "found as ./newswatch.toml"),
    ]
    named = {**env, "NEWSWATCH_CONFIG": str(tmp_path / "named.toml")}
    assert locate_config(None, named).origin == "from $NEWSWATCH_CONFIG"
    assert locate_config(tmp_path / "given.toml", named).origin == "from --config"
    with pytest.raises(ConfigError, match=r"named\.toml: \(file\): no such file \(named by "):
        load_settings(None, named)
    # a relative $XDG_CONFIG_HOME is ignored, as the XDG spec says
    home = user_config_dir({"XDG_CONFIG_HOME": "rel"})
    assert home == Path.home() / ".config" / "newswatch"


def test_the_checkout_config_is_found_from_the_repository_root(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # where `make run` runs `newswatch crawl`
    location = locate_config(None, {"XDG_CONFIG_HOME": str(tmp_path)})
    assert (location.path, location.origin) == (
        Path("config/newswatch.toml"),
        "found as ./config/newswatch.toml",
    )


def test_durations_and_sizes_that_make_no_sense_are_refused_one_line_each(tmp_path):
    path = write(
        tmp_path,
        """
[crawl]
timeout = "-5s"
interval = 0
max_page_size = "9999999999999999999999MB"
retry_schedule = ["10m", "-1h"]

[service]
min_interval = "1TB"

[[sources]]
name = "a"
kind = "feed"
url = "https://example.org/feed"
interval = "-30m"
""",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    lines = caught.value.lines()
    assert all(line.startswith(f"{path}: ") and "\n" not in line for line in lines)
    by_key = {line.split(": ")[1]: line.split(": ", 2)[2] for line in lines}
    assert by_key["crawl.timeout"].startswith("must be positive")
    assert by_key["crawl.interval"].startswith("must be positive")
    assert by_key["crawl.retry_schedule[1]"].startswith("must be positive")
    assert by_key["sources[0].interval"].startswith("must be positive")
    assert by_key["crawl.max_page_size"] == "must be at most 1GiB (got '9999999999999999999999MB')"
    assert "'TB' is not a unit" in by_key["service.min_interval"]
    sizes = write(tmp_path, '[crawl]\nmax_page_size = "1TB"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(sizes, env={})
    assert "units: B, KB, MB, GB, KiB, MiB, GiB" in str(caught.value)
    assert load_settings(write(tmp_path, '[crawl]\nmax_page_size = "512KiB"\n'), env={}).crawl
    assert (
        load_settings(
            write(tmp_path, '[crawl]\nmax_page_size = "1GiB"\n'), env={}
        ).crawl.max_page_bytes
        == 2**30
    )


# Runs the command line with the PostgreSQL driver made impossible to import, as on a
# machine where newswatch was installed without its [postgres] extra.
WITHOUT_PSYCOPG = """
import sys
sys.modules["psycopg"] = None
sys.argv[0] = "newswatch"
from newswatch.cli import main
main()
"""


def test_postgresql_without_its_driver_says_what_to_install(tmp_path):
    def without_driver(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", WITHOUT_PSYCOPG, *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    path = write(tmp_path, '[storage]\ndatabase_url = "postgresql://newswatch@db.example/n"\n')
    from_file = without_driver("--config", str(path), "crawl")
    assert from_file.returncode == 2, from_file.stderr
    (line,) = from_file.stderr.splitlines()
    assert line.startswith(f"config error: {path}: storage.database_url: the psycopg driver")
    assert "pip install 'newswatch[postgres]'" in line
    sqlite = write(tmp_path, "")
    archive = f"sqlite:///{tmp_path / 'news.db'}"
    open_engine(archive).dispose()
    for args in (
        ["--config", str(sqlite), "articles", "--database", "postgresql://u:secret@db/n"],
        ["--config", str(sqlite), "--database", archive, "copy-db", "--to", "postgresql://db/n"],
    ):
        result = without_driver(*args)
        assert result.returncode == 1, result.stderr
        (line,) = result.stderr.splitlines()
        assert line.startswith("database error (postgresql://"), line
        assert "newswatch[postgres]" in line and "secret" not in line
