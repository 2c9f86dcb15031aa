"""Scrapy project: discovers and fetches report pages from the portals in the registry."""
