"""Spiders: one generic spider; portals are rows in sources.yaml."""
