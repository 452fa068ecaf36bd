"""`newswatch crawl` and `newswatch demo`: run a crawl once, and exits."""

from __future__ import annotations

import contextlib
import json
import logging
import shlex
import tempfile
from dataclasses import replace
from pathlib import Path

import click

from crawler.cluster.options import ClusterOptions
from crawler.sources import Source
from crawler.storage.engine import database_location, open_engine, sessions
from newswatch.app import App
from newswatch.commands.options import config_option
from newswatch.settings import with_cluster

log = logging.getLogger("newswatch")


@click.command()
@config_option
@click.option(
    "-s",
    "--source",
    "names",
    multiple=True,
    metavar="NAME",
    help="Crawl only this source (repeatable). [default: every source]",
)
@click.option(
    "--cluster",
    is_flag=True,
    help="Queue the sources for `newswatch worker` processes and wait for them, instead of "
    "crawling here. [default: when the config has a [cluster] section]",
)
@click.pass_obj
def crawl(app: App, names: tuple[str, ...], cluster: bool) -> None:
    """Crawl the configured sources once, store new articles, and exit.

    Prints one line per source: links seen, pages fetched, new articles,
    duplicates, failures and seconds, and one line per failure with its cause
    (tracebacks only with -v). Failures are recorded and the crawl goes on;
    see them with `newswatch failures`.

    \b
    Exit status:
      0  every source was read (or had not changed); articles that failed
         are retried on later runs and do not count
      1  some sources could not be read (their line says "failed")
      2  configuration or usage error: nothing was crawled
      3  every source failed: check the network and the addresses

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
        from crawler.run import crawl as run_crawl  # Scrapy: loaded for a crawl here only
        from newswatch.progress import CrawlProgress

        tallies = run_crawl(
            sources, settings.crawl, settings.database_url, progress=CrawlProgress()
        )
    _summarise(tallies)
    failed = [t.name for t in tallies if t.finished is None or t.finished.status == "failed"]
    if failed and len(failed) == len(tallies):
        log.warning(
            "every source failed: check this machine's network access and the addresses "
            "in %s (see `newswatch failures`)",
            settings.config_path,
        )
        raise click.exceptions.Exit(3)
    if failed:
        shown = ", ".join(failed[:5]) + (f" and {len(failed) - 5} more" if len(failed) > 5 else "")
        log.warning(
            "%d of %d sources failed: %s (see `newswatch failures`)",
            len(failed),
            len(tallies),
            shown,
        )
        raise click.exceptions.Exit(1)


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
    total = {
        k: sum(getattr(t.finished, k) for t in tallies if t.finished)
        for k in ("fetched", "new", "duplicates", "failed")
    }
    log.info(
        "crawl done: %d sources, %d fetched, %d new, %d duplicate, %d failed",
        len(tallies),
        total["fetched"],
        total["new"],
        total["duplicates"],
        total["failed"],
    )


@click.command()
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Keep the database in DIR (made if missing), with a configuration to explore it "
    "by. [default: a temporary database, deleted at the end]",
)
@click.pass_obj
def demo(app: App, keep: Path | None) -> None:
    """Serve the bundled sample news site on loopback and crawl it.

    No internet needed: six outlets (RSS, Atom, RSS 1.0, a news sitemap, a
    listing page) in English, French, Dutch, German and Arabic are served on
    127.0.0.1, crawled into a temporary SQLite database, and listed. With
    --keep DIR the database stays in DIR/demo.db, beside a DIR/newswatch.toml
    naming it, and the commands to explore it are printed; --database URL
    stores into that database instead. No configuration is read.

    \b
    Examples:
      newswatch demo
      newswatch demo --keep newswatch-demo   # then: cd newswatch-demo; newswatch stories
    """
    from crawler.run import crawl as run_crawl
    from newswatch.commands.review import print_articles
    from newswatch.demo.site import NewsSite
    from newswatch.progress import CrawlProgress
    from newswatch.settings import DEFAULT_INTERVAL, Settings, parse_settings

    if keep and app.database_url:
        raise click.UsageError("give --keep DIR or --database URL, not both")
    with contextlib.ExitStack() as stack:
        if app.database_url:
            url = app.database_url
        elif keep:
            keep.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{(keep / 'demo.db').absolute()}"
        else:
            scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="newswatch-demo-"))
            url = f"sqlite:///{Path(scratch) / 'demo.db'}"
        site = stack.enter_context(NewsSite())
        document = {"sources": site.sources(), "crawl": {"delay": 0, "timeout": "10s"}}
        settings: Settings = parse_settings(document, Path("(demo)"), {})
        settings = replace(settings, database_url=url, default_interval=DEFAULT_INTERVAL)
        log.info("demo site at %s, database %s", site.base_url, database_location(url))
        tallies = run_crawl(settings.sources, settings.crawl, url, progress=CrawlProgress())
        _summarise(tallies)
        engine = open_engine(url)
        try:
            print_articles(sessions(engine), limit=20)
        finally:
            engine.dispose()
    click.echo()
    if keep:
        _explain_kept(keep, url)
    elif app.database_url:
        shown = shlex.quote(url)
        click.echo(
            f"Stored in {database_location(url)}; explore it with "
            f"`newswatch --database {shown} articles` (or stories, serve)."
        )
    else:
        click.echo(
            "That database was temporary: `newswatch demo --keep DIR` keeps one "
            "to explore with articles, stories, coverage and serve."
        )


def _explain_kept(folder: Path, url: str) -> None:
    """Leave a configuration beside the kept database, and say how to use the two."""
    config = folder / "newswatch.toml"
    ours = not config.exists()  # a configuration of the user's own is never overwritten
    if ours:
        config.write_text(
            "# Made by `newswatch demo --keep`: the demo's database, to explore it.\n"
            f"[storage]\ndatabase_url = {json.dumps(url)}\n",
            encoding="utf-8",
        )
    chosen = f"--config {shlex.quote(str(config.absolute()))}"
    chosen += "" if ours else f" --database {shlex.quote(url)}"
    click.echo(f"The demo's articles are kept in {database_location(url)}. Explore them:")
    for example in ("articles --lang de", "stories", "coverage", "serve"):
        click.echo(f"  newswatch {chosen} {example}")
    if ours:
        click.echo(f"or, in {folder.absolute()}, without --config: ./newswatch.toml is found.")
