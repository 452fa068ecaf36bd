"""`newswatch crawl` and `newswatch demo`: run a crawl once, and exits."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import replace
from pathlib import Path

import click

from crawler.cluster.options import ClusterOptions
from crawler.run import crawl as run_crawl
from crawler.sources import Source
from crawler.storage.articles import ArticleFilter
from crawler.storage.engine import open_engine, sessions
from newswatch.app import App
from newswatch.commands.options import config_option
from newswatch.commands.review import print_articles
from newswatch.progress import CrawlProgress
from newswatch.settings import with_cluster

log = logging.getLogger("newswatch")


@click.command()
@config_option
@click.option(
    "-s", "--source", "names", multiple=True, metavar="NAME",
    help="Crawl only this source (repeatable). [default: every source]",
)  # fmt: skip
@click.option(
    "--cluster", is_flag=True,
    help="Queue the sources for `newswatch worker` processes and wait for them, instead of "
    "crawling here. [default: when the config has a [cluster] section]",
)  # fmt: skip
@click.pass_obj
def crawl(app: App, names: tuple[str, ...], cluster: bool) -> None:
    """Crawl the configured sources once, store new articles, and exit.

    Prints one line per source: links seen, pages fetched, new articles,
    duplicates, failures and seconds. Failures are recorded and the crawl goes
    on; see them with `newswatch failures`.

    \b
    Examples:
      newswatch crawl
      newswatch crawl --source brussels-times --config config/newswatch.toml
      newswatch crawl --cluster      # let the running workers do it
    """
    settings = with_cluster(app.settings, requested=cluster)
    sources = _chosen(settings.sources, names)
    if settings.cluster is not None:
        tallies = _crawl_in_cluster(app, settings.cluster, sources)
    else:
        tallies = run_crawl(
            sources, settings.crawl, settings.database_url, progress=CrawlProgress()
        )
    _summarise(tallies)
    if tallies and all(t.finished and t.finished.status == "failed" for t in tallies):
        # Still exit 0: the crawl ran and recorded why; health shows in `newswatch sources`.
        log.warning(
            "every source failed: check this machine's network access and the addresses "
            "in %s (see `newswatch failures`)", settings.config_path,
        )  # fmt: skip


def _crawl_in_cluster(app: App, cluster: ClusterOptions, sources: list[Source]):
    from crawler.cluster.coordinator import crawl_in_cluster
    from crawler.storage.sources import sync_sources

    with app.sessions()() as session:
        source_ids = sync_sources(session, sources)
    log.info("queued %d sources for the cluster's workers", len(sources))
    return crawl_in_cluster(
        sources, source_ids, cluster, app.sessions(), app.settings.crawl, progress=log.info
    )


def _chosen(sources: tuple[Source, ...], names: tuple[str, ...]) -> list[Source]:
    if not names:
        if not sources:
            raise click.UsageError("the configuration has no [[sources]] to crawl")
        return list(sources)
    known = {s.name: s for s in sources}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise click.BadParameter(
            f"no source named {', '.join(map(repr, unknown))}; known: {', '.join(known)}",
            param_hint="--source",
        )
    return [known[n] for n in names]


def _summarise(tallies) -> None:
    total = {k: sum(getattr(t.finished, k) for t in tallies if t.finished)
             for k in ("fetched", "new", "duplicates", "failed")}  # fmt: skip
    log.info(
        "crawl done: %d sources, %d fetched, %d new, %d duplicate, %d failed",
        len(tallies), total["fetched"], total["new"], total["duplicates"], total["failed"],
    )  # fmt: skip


@click.command()
@click.option(
    "--database", "database_url", metavar="URL",
    help="Store into this database instead of a temporary one.",
)  # fmt: skip
def demo(database_url: str | None) -> None:
    """Serve the bundled sample news site on loopback and crawl it.

    No internet needed: six outlets (RSS, Atom, RSS 1.0, a news sitemap, a
    listing page) in English, French, Dutch, German and Arabic are served on
    127.0.0.1, crawled into a temporary SQLite database, and listed.

    \b
    Example:
      newswatch demo
    """
    from newswatch.demo.site import NewsSite
    from newswatch.settings import DEFAULT_INTERVAL, Settings, parse_settings

    with tempfile.TemporaryDirectory(prefix="newswatch-demo-") as scratch, NewsSite() as site:
        url = database_url or f"sqlite:///{Path(scratch) / 'demo.db'}"
        document = {"sources": site.sources(), "crawl": {"delay": 0, "timeout": "10s"}}
        settings: Settings = parse_settings(document, Path("(demo)"), {})
        settings = replace(settings, database_url=url, default_interval=DEFAULT_INTERVAL)
        log.info("demo site at %s, database %s", site.base_url, url)
        tallies = run_crawl(settings.sources, settings.crawl, url, progress=CrawlProgress())
        _summarise(tallies)
        engine = open_engine(url)
        try:
            print_articles(sessions(engine), ArticleFilter(), limit=20)
        finally:
            engine.dispose()
