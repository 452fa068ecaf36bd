"""The spider's run state: what a crawl in one process keeps, and the cluster spider's hooks."""

from __future__ import annotations

from crawler.cluster.spider import ClusterSpider
from crawler.recorder import RunRecorder
from crawler.sources import CrawlOptions, Source, article_cap, poll_interval
from crawler.spiders.news import CrawlContext, LocalRun, NewsSpider
from crawler.storage import fetch_state
from crawler.storage.engine import sessions
from crawler.storage.sources import sync_sources

CAPPED = Source("capped", "feed", ("https://capped.example/feed",), max_articles=3)
PLAIN = Source("plain", "feed", ("https://plain.example/feed",), interval_seconds=120)
OPTIONS = CrawlOptions(max_articles_per_source=5)


def local_run(engine) -> LocalRun:
    make = sessions(engine)
    with make() as session:
        ids = sync_sources(session, [CAPPED, PLAIN])
    return LocalRun(CrawlContext((CAPPED, PLAIN), OPTIONS, make, ids, RunRecorder(make, ids)))


def test_a_sources_own_cap_and_interval_come_before_the_defaults():
    assert (article_cap(CAPPED, OPTIONS), article_cap(PLAIN, OPTIONS)) == (3, 5)
    assert (poll_interval(CAPPED, 900), poll_interval(PLAIN, 900)) == (900.0, 120.0)


def test_a_local_run_spends_each_sources_cap_once_over_the_whole_run(engine):
    run = local_run(engine)
    assert run.source({"source": "capped"}) is CAPPED
    assert run.take_budget(CAPPED, 2) == 2
    assert run.take_budget(CAPPED, 2) == 1  # 3 in all
    assert run.take_budget(CAPPED, 2) == 0
    assert run.take_budget(PLAIN, 9) == 5  # the crawl's default cap


def test_a_local_run_hands_out_each_article_key_once(engine):
    run = local_run(engine)
    assert run.not_requested(["a", "b"]) == ["a", "b"]
    assert run.not_requested(["b", "c"]) == ["c"]  # two feeds linking one article


def test_a_local_run_saves_validators_only_when_the_crawl_finished(engine):
    for reason, saved in (("shutdown", False), ("finished", True)):
        run = local_run(engine)
        url = f"https://plain.example/feed?{reason}"
        fetch = {
            "url": url,
            "source_id": run.context.source_ids["plain"],
            "status": 200,
            "etag": '"v1"',
            "last_modified": None,
        }
        run.keep_validators(fetch, {"source": "plain"})
        run.finished(reason)
        with run.context.sessions() as session:
            assert (url in fetch_state.validators_for(session, [url])) is saved, reason


def test_the_cluster_spider_overrides_none_of_the_news_spiders_private_methods():
    # It changes where the run's state lives through the run_state hook, and wraps public
    # callbacks only: NewsSpider's private methods stay free to change.
    overridden = set(vars(ClusterSpider)) & set(dir(NewsSpider))
    private = sorted(name for name in overridden if name.startswith("_") and name[1] != "_")
    assert private == [], f"ClusterSpider overrides NewsSpider's private {private}"
