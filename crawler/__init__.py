"""Fetch, extract, de-duplicate and store news articles: the crawl library."""
