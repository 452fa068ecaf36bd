"""Thin Scrapy components around the pure extract, urls and dedupe functions."""
