"""Cheap checks of the labelled quality corpus itself (tests/fixtures/quality, bench.corpus).

They guard the ground truth that `python -m bench.quality` scores against; they do not run the
cleaner.  The corpus is built from ../shared/seeds on first use (bench.corpus.corpus_dir).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from itertools import pairwise
from urllib.parse import urlsplit

import opencc
import pytest

from bench.corpus import (
    DATE_LINE,
    FIELDS,
    KEEP_CASES,
    NOISE,
    QUALITY,
    SIGNER,
    LabelledPage,
    corpus_dir,
    load_pages,
    norm,
)
from tests.portal import EXPECTED

PAGES = load_pages()
CORPUS = [p for p in PAGES if p.corpus == "quality"]
T2S = opencc.OpenCC("t2s")


def test_label_files_parse_and_every_file_exists() -> None:
    for name in ("labels.json", "portal_labels.json"):
        assert isinstance(json.loads((corpus_dir() / name).read_text(encoding="utf-8")), list)
    pages = [r for r in EXPECTED["reports"] if r["format"] == "html"]  # files are not pages
    assert len(CORPUS) >= 20 and sum(p.corpus == "portal" for p in PAGES) == len(pages)
    for page in PAGES:
        assert page.path.is_file(), page.path
        assert page.paragraphs and page.metadata, page.name
    on_disk = {p.name for p in (corpus_dir() / "pages").glob("*.html")}
    assert on_disk == {p.name for p in CORPUS}


def test_no_seed_text_is_committed_with_the_builder() -> None:
    # The corpus is the seeds' text: built at run time, never kept in the repository.
    kept = {p.name for p in QUALITY.iterdir()}
    assert kept <= {"build_quality.py", "__pycache__"}, kept
    assert corpus_dir().parent != QUALITY


def test_every_seed_is_wrapped_in_at_least_four_templates() -> None:
    templates: dict[str, set[str]] = {}
    for page in CORPUS:
        if page.quality == "gov":
            templates.setdefault(page.seed, set()).add(page.template)
    assert sorted(templates) == ["000", "001", "002", "003", "004"]
    assert all(len(t) >= 4 for t in templates.values()), templates
    assert {"trs", "hanweb", "table", "word", "trad"} <= set().union(*templates.values())


@pytest.mark.parametrize("page", [p for p in CORPUS if p.encoding == "gbk"], ids=lambda p: p.name)
def test_gbk_pages_are_gbk_bytes_with_the_charset_only_in_meta(page: LabelledPage) -> None:
    body = page.body()
    assert "charset" not in page.content_type.lower()
    assert re.search(rb"<meta[^>]+charset=(gb2312|gbk)", body[:2048], re.IGNORECASE)
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert page.paragraphs[0][:8].encode("gbk") in body


def test_urls_are_on_made_up_hosts() -> None:
    for page in PAGES:
        host = urlsplit(page.url).hostname or ""
        assert host.endswith((".example-gov.cn", ".example")) or host == "127.0.0.1", page.url


def test_paragraphs_are_normalised_and_simplified() -> None:
    for page in PAGES:
        for para in page.paragraphs:
            assert para == norm(para), (page.name, para[:30])
            assert T2S.convert(para) == para, (page.name, para[:30])


def test_metadata_fields_and_shapes() -> None:
    for page in PAGES:
        meta = page.metadata
        assert set(meta) <= set(FIELDS), page.name
        assert {"title", "report_year"} <= set(meta), page.name
        assert isinstance(meta["report_year"], int)
        for key in ("published", "written"):
            if key in meta:
                assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", meta[key]), (page.name, key)
        if "site_id_code" in meta:
            assert re.fullmatch(r"\d{10}", meta["site_id_code"]), page.name
        if "icp" in meta:
            assert re.fullmatch(r"\w+ICP备\d+号(-\d+)?", meta["icp"]), page.name
        assert all(v not in (None, "") for v in meta.values()), page.name


def test_every_keep_case_is_expected_body_on_at_least_two_pages() -> None:
    seen: Counter[str] = Counter()
    for page in CORPUS:
        paras = page.paragraphs
        for name, pattern in KEEP_CASES.items():
            seen[name] += any(pattern.search(p) for p in paras)
        seen["signature + date"] += any(
            SIGNER.match(a) and DATE_LINE.match(b) for a, b in pairwise(paras)
        )
    for name in [*KEEP_CASES, "signature + date"]:
        assert seen[name] >= 2, (name, seen[name])


def test_no_expected_paragraph_is_noise_unless_a_keep_case() -> None:
    for page in PAGES:
        for para in page.paragraphs:
            hits = [label for label, pattern in NOISE.items() if pattern.search(para)]
            if hits:
                assert any(k.search(para) for k in KEEP_CASES.values()), (page.name, hits, para)
