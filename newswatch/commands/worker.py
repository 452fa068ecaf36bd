"""`newswatch worker`: crawl from the cluster's shared queue until stopped."""

from __future__ import annotations

import click

from newswatch.app import App
from newswatch.commands.options import config_option
from newswatch.settings import with_cluster


@click.command()
@config_option
@click.option(
    "--id",
    "worker_id",
    metavar="NAME",
    help="This worker's name in `newswatch status`. [default: host-pid-random]",
)
@click.pass_obj
def worker(app: App, worker_id: str | None) -> None:
    """Crawl requests from the cluster's shared Redis queue until stopped.

    Start any number of workers, on any number of machines, beside one
    `newswatch run --cluster` that queues each source when it is due. Workers
    share the queue, the duplicate filter and each site's politeness limits, so a
    URL is fetched once and a site sees the configured rate whatever the number of
    workers. Articles go to the PostgreSQL database of the configuration.

    A worker that is killed loses nothing: what it held goes back to the queue
    once its heartbeat expires ([cluster] worker_timeout). SIGTERM or Ctrl-C stops
    it cleanly: it takes nothing new and finishes the pages it has (at most the
    download timeout); a second SIGTERM stops it at once and puts back what it held.

    Settings come from the [cluster] section ($NEWSWATCH_REDIS_URL overrides its
    redis_url) and [crawl]; the worker does not need the list of sources.

    \b
    Example:
      export NEWSWATCH_DATABASE_URL=postgresql://newswatch@db/newswatch
      export NEWSWATCH_REDIS_URL=redis://queue:6379/0
      newswatch worker
    """
    from crawler.cluster.worker import run_worker

    settings = with_cluster(app.settings)
    assert settings.cluster is not None
    run_worker(settings.crawl, settings.cluster, settings.database_url, worker_id=worker_id)
