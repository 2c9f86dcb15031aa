"""Build shim for `scrapyd-deploy`, which runs `setup.py bdist_egg` (it would otherwise write its
own setup.py here). Everything is configured in pyproject.toml; the egg's `scrapy` entry point names
the settings module Scrapyd runs with."""

from setuptools import setup

setup()
