"""Attachment extraction speed per format (`make bench` line; `python -m bench.files_bench`).

One report (seed 001, ~6,000 characters) built as each format the way tests/filemaker.py builds
it — Chromium PDF, python-docx, OFD, LibreOffice DOC when installed — plus one scanned page.
Each is extracted in-process (`extract_file`, the library's cost) and through the isolated child
process the crawl uses (`extract_isolated`, + interpreter start-up). Cheap: a few seconds.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from archive.files import extract_file, extract_isolated
from tests import filemaker as fm

TITLE = "重庆市渝中区2023年法治政府建设情况的报告"


def _files() -> dict[str, tuple[str, bytes]]:
    paras = fm.seed_paragraphs("001")
    files = {"pdf": ("pdf", fm.make_pdf(TITLE, paras)),
             "docx": ("docx", fm.make_docx(TITLE, paras)),
             "ofd": ("ofd", fm.make_ofd(TITLE, paras)),
             "scan (OCR)": ("pdf", fm.make_scan(TITLE, paras[:4]))}
    if fm.soffice():
        files["doc"] = ("doc", fm.make_doc(TITLE, paras))
    return files


def run(repeat: float = 1.5) -> dict[str, Any]:
    """Per format: pages, in-process s/file and pages/s (repeated for `repeat` s), isolated s."""
    out: dict[str, Any] = {}
    for name, (fmt, body) in _files().items():
        first = extract_file(body, fmt)
        n, start = 0, time.perf_counter()
        while n == 0 or (first.quality != "ocr" and time.perf_counter() - start < repeat):
            extract_file(body, fmt)  # OCR once: it takes seconds a page
            n += 1
        per_file = (time.perf_counter() - start) / n
        start = time.perf_counter()
        extract_isolated(body, fmt)
        isolated = time.perf_counter() - start
        pages = first.pages or None  # Word formats have no fixed pages
        out[name] = {"bytes": len(body), "pages": pages, "chars": sum(map(len, first.paragraphs)),
                     "seconds_per_file": round(per_file, 4),
                     "pages_per_s": round(pages / per_file, 1) if pages else None,
                     "isolated_seconds": round(isolated, 3), "how": first.how}
    return out


def report(res: dict[str, Any]) -> None:
    print("\nattachment extraction (one ~6,000-character report per format; in-process / in the "
          "crawl's isolated child)")
    print(f"{'format':<12}{'pages':>6}{'KiB':>7}{'ms/file':>9}{'pages/s':>9}"
          f"{'isolated ms':>13}  via")
    for name, r in res.items():
        rate = f"{r['pages_per_s']:.1f}" if r["pages_per_s"] else "—"
        print(f"{name:<12}{r['pages'] or '—':>6}{r['bytes'] / 1024:>7.0f}"
              f"{r['seconds_per_file'] * 1000:>9.1f}{rate:>9}{r['isolated_seconds'] * 1000:>13.0f}"
              f"  {r['how']}")


if __name__ == "__main__":
    result = run()
    report(result)
    if "--json" in sys.argv:
        print(json.dumps(result, ensure_ascii=False, indent=1))
