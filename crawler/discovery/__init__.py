"""From a homepage to the feeds and sitemaps that list its articles, and which to follow.

Pure parts: homepage.py (what a homepage, its robots.txt and the usual paths offer),
probe.py (what a fetched candidate turned out to be), choice.py (which to follow, and why
not the others), site.py (one site's discovery step by step: what to fetch next). The
fetching: spider.py, through the crawl's own middlewares, run once in-process by run.py.
"""
