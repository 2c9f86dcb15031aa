"""Storage and cleaning for the report archive: importable and testable without Scrapy.

Everything here is a pure function of (raw bytes, headers, source) plus the SQLite store, so the
whole archive can be re-derived from its raw captures when the cleaner improves.
"""
