"""Scrapy's per-response check of generator callbacks is computed once per spider, not per page."""

from __future__ import annotations

import gc
from pathlib import Path

from scrapy.utils import misc
from scrapy.utils.misc import is_generator_with_return_value

from crawler.spiders.reports import ReportsSpider

SOURCES = """sources:
  - name: one
    region: 城东区
    level: county
    start_urls:
      - http://127.0.0.1:9/col/index.html
"""


def test_generator_callbacks_are_parsed_once(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(SOURCES, encoding="utf-8")
    spider = ReportsSpider(sources=str(path))
    source = spider.sources["one"]
    parsed = []
    real = misc.ast.parse
    monkeypatch.setattr(misc.ast, "parse", lambda *a, **k: parsed.append(1) or real(*a, **k))
    for k in range(3):  # what Scrapy does with each response: one Request at a time
        request = spider._request(f"http://127.0.0.1:9/art/{k}.html", source, "detail", 0)
        assert not is_generator_with_return_value(request.callback)
        assert not is_generator_with_return_value(request.errback)
        del request
        gc.collect()
    assert len(parsed) == 2, f"callback sources parsed {len(parsed)} times for 3 responses"
