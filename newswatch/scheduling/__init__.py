"""The always-on service: APScheduler jobs, crawl worker processes, adaptive polling, health."""
