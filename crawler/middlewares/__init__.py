"""Scrapy downloader middlewares of our own."""
