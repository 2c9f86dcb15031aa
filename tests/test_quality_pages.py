"""The cleaner on every labelled page: exact paragraphs and metadata, even with chrome injected
inside the article container (where trafilatura would keep it)."""

from __future__ import annotations

import pytest
from lxml import etree
from lxml import html as lxml_html

from archive.body import find_container
from archive.decode import decode_body
from archive.extract import extract_page
from bench.corpus import FIELDS, LabelledPage, load_pages, norm
from tests.test_cleaning import CHROME

PAGES = [p for p in load_pages() if p.quality == "gov"]


def lines(page: LabelledPage, body: bytes, content_type: str) -> list[str]:
    return [norm(line) for line in extract_page(body, content_type, page.url).text.split("\n")]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_exact_paragraphs_and_metadata(page: LabelledPage) -> None:
    ex = extract_page(page.body(), page.content_type, page.url)
    assert [norm(line) for line in ex.text.split("\n")] == [norm(p) for p in page.paragraphs]
    for field in FIELDS:
        if field in page.metadata:
            assert getattr(ex, field) == page.metadata[field], field


@pytest.mark.parametrize("page", PAGES[::3], ids=[p.name for p in PAGES[::3]])
def test_chrome_inside_the_container_is_stripped(page: LabelledPage) -> None:
    root = lxml_html.document_fromstring(decode_body(page.body(), page.content_type).text)
    container, _ = find_container(root)
    assert container is not None
    for i, text in enumerate(CHROME):
        p = etree.Element("p")
        p.text = text
        container.insert(0 if i % 2 else len(container), p)
    body = lxml_html.tostring(root, encoding="utf-8")
    assert lines(page, body, "text/html; charset=utf-8") == [norm(p) for p in page.paragraphs]
