"""Crawling with many workers: a Redis queue shared by every worker, runs tracked in Redis.

    coordinator (newswatch run --cluster, crawl --cluster)
        starts a run per due source, pushes its feed requests ──► Redis queue (scrapy-redis)
    workers (newswatch worker, any number, any machine)
        pop a request ──► held in the worker's in-flight hash until its effect is stored
        ──► new article requests back into the queue (shared duplicate filter)
    a run is finished when every request it led to has been settled; the coordinator then
    closes it in the database, like a single-process crawl does.

A worker that dies (SIGKILL, a lost machine) stops renewing its heartbeat; the next worker
or coordinator to notice puts what it held back into the queue. Everything a request leads
to is idempotent (articles are stored once per URL), so being crawled twice loses nothing.
"""
