"""Spiders and the readers of each source kind (feeds, sitemaps, listing pages)."""
