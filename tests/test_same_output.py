"""The cleaner's speed-ups keep its output (issue #19): `bench.same_output` itself, and each
shortcut against the slow form it replaced, on the real pages and the quality corpus (read at run
time from ../shared) and on synthetic benchmark pages.

The full before/after proof is `python -m bench.same_output --save/--check` (docs/performance.md).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archive import meta, problems
from archive.body import _CJK, _ENOUGH_CJK, MIN_CONTAINER_CHARS
from archive.decode import decode_body
from archive.extract import _parse
from archive.patterns import RE
from bench import same_output


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> list[same_output.Page]:
    synth = list(same_output.synth_pages(tmp_path_factory.mktemp("synth"), 1, None))[:6]
    return [*synth, *same_output.corpus_pages(), *same_output.real_pages()]


def test_fingerprints_are_stable_and_cover_every_set(tmp_path: Path) -> None:
    first = same_output.run(1, 7, tmp_path / "a")
    again = same_output.run(1, 7, tmp_path / "b")
    assert {name.split(":")[0] for name in first} == {"synth", "synth33", "corpus", "real"}
    assert same_output.compare(first, again) == []
    name, gone = list(first)[:2]
    changed = {**again, name: {**again[name], "digest": "0" * 20}}
    del changed[gone]
    diff = same_output.compare(first, changed)
    assert [line.split(": before")[0] for line in diff] == sorted([name, gone])


def test_label_prefilter_finds_the_same_labels(pages: list[same_output.Page]) -> None:
    plain = re.compile(meta._LABEL.pattern.split("])", 1)[1])  # without the lookahead
    assert plain.pattern.startswith(r"[\[【［]?")
    seen = 0
    for _, body, content_type, _ in pages:
        root = _parse(decode_body(body, content_type).text)
        if root is None:
            continue
        joined = meta._SEP.join(meta._text_chunks(root))
        want = [(m.span(), m.groups()) for m in plain.finditer(joined)]
        assert [(m.span(), m.groups()) for m in meta._LABEL.finditer(joined)] == want
        seen += len(want)
    assert seen > 100  # the pages do carry 信息公开 labels


def test_container_size_check_counts_like_findall(pages: list[same_output.Page]) -> None:
    texts = [decode_body(body, ct).text for _, body, ct, _ in pages]
    texts += ["中" * (MIN_CONTAINER_CHARS - 1), "a中" * MIN_CONTAINER_CHARS, ""]
    results = set()
    for text in texts:
        enough = len(_CJK.findall(text)) >= MIN_CONTAINER_CHARS
        assert bool(_ENOUGH_CJK.match(text)) == enough
        results.add(enough)
    assert results == {True, False}


def test_bad_share_shortcut_is_exact() -> None:
    def slow(text: str) -> float:
        sample = text[:problems.BAD_SAMPLE_CHARS]
        chars = len(sample) - sum(len(m) for m in re.findall(r"\s+", sample))
        return len(problems._BAD_CHARS.findall(sample)) / chars if chars else 0.0

    for text in ("", "   ", "正文 text", "\ufffd\ufffd ab", "\x00" * 10, "a\ufffd" * 40_000):
        assert problems.bad_share(text) == slow(text)


def test_patterns_by_text_are_compiled_once() -> None:
    first = RE[r"法治|依法行政"]
    assert first is RE[r"法治|依法行政"] and first.search("推进依法行政")


def test_file_link_prefilter_agrees_with_the_full_pattern(pages: list[same_output.Page]) -> None:
    from crawler.attachments import _FILE_HREF, has_file_links

    bodies = [body for _, body, _, _ in pages]
    bodies += [b'<a HREF="/x/a.PDF">', b"<a href=/x/a.docx>", b'<a href="a.document">',
               b'<a href="x.Doc?x=1">', b"<script>document.write('a.pdf')</script>"]
    found = [has_file_links(body) for body in bodies]
    assert found == [bool(_FILE_HREF.search(body)) for body in bodies]
    assert True in found and False in found
