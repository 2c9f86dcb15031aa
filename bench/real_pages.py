"""`make bench-real`: our cleaner against plain trafilatura on real portal pages (issue #16).

    python -m bench.real_pages [--verbose] [--strict] [--dir PATH]

The pages are read at run time from ../shared/real-pages (beside the repository; never copied into
it): raw bytes as saved from *.gov.cn portals, with expected values in manifest.json decided by a
person reading each page.  Both extractors get the same bytes, Content-Type and URL in one run:
ours is ``archive.extract.extract_page``; trafilatura is ``trafilatura.extract(html, url=url,
output_format="txt")`` with title and date from ``trafilatura.extract_metadata``.

Metrics, per page and in total (strings are compared with every whitespace character removed):

- chrome left: listed chrome strings (``expected.noise``) present in the output;
- body strings found: of ``body_key`` (five sentences) plus ``body_first`` and ``body_last``;
- bodies emitted twice: pages where some body sentence occurs more than once in the output;
- characters emitted: length of the output text;
- metadata: title, published (the date, or one of ``published_alt``), publisher, index_no, doc_no,
  each over the pages that show it; "spurious" counts a value given where the page shows none.

Targets: chrome left ≤ 1/5 of trafilatura's, no body twice, every body string found, title and
published ≥ 95 %, 索引号/文号/发布机构 ≥ 95 % where shown.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trafilatura
from trafilatura.metadata import extract_metadata

from archive.decode import decode_body

REPO = Path(__file__).resolve().parents[1]
REAL_PAGES = REPO.parent / "shared" / "real-pages"
META_FIELDS = ("title", "published", "publisher", "index_no", "doc_no")
TRAF_FIELDS = ("title", "published")
FIELD_TARGET = 0.95
CHROME_RATIO = 0.2
_WS = re.compile(r"[\s\u3000\xa0\u200b\ufeff]+")


def squash(text: str) -> str:
    return _WS.sub("", text)


@dataclass(frozen=True, slots=True)
class RealPage:
    file: str
    path: Path
    url: str
    host: str
    cms: str
    expected: dict[str, Any]

    @property
    def content_type(self) -> str:
        return "text/html; charset=utf-8"  # every page in the set is UTF-8 (manifest "charset")

    def body(self) -> bytes:
        return self.path.read_bytes()

    @property
    def body_strings(self) -> list[str]:
        ex = self.expected
        return [*ex["body_key"], ex["body_first"], ex["body_last"]]


def load_real_pages(folder: Path = REAL_PAGES) -> list[RealPage]:
    """The manifest's pages; an empty list when the folder is absent."""
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return []
    pages = []
    for item in json.loads(manifest.read_text(encoding="utf-8")):
        url = item.get("url") or f"http://{item['host']}/{item['file']}"
        pages.append(RealPage(item["file"], folder / item["file"], url, item["host"], item["cms"],
                              item["expected"]))  # fmt: skip
    return pages


@dataclass
class Score:
    page: RealPage
    who: str
    chars: int = 0
    chrome_left: list[str] = field(default_factory=list)
    body_missing: list[str] = field(default_factory=list)
    twice: list[str] = field(default_factory=list)
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # shown fields: (got, want)
    spurious: dict[str, Any] = field(default_factory=dict)  # fields given where none is shown
    error: str | None = None


def field_ok(name: str, got: Any, expected: dict[str, Any]) -> bool:
    if name == "published":
        return got == expected["published"] or got in expected.get("published_alt", [])
    return got == expected[name]


def score(page: RealPage, who: str, text: str, meta: dict[str, Any]) -> Score:
    res = Score(page, who, chars=len(text))
    flat = squash(text)
    ex = page.expected
    res.chrome_left = [s for s in ex["noise"] if squash(s) in flat]
    res.body_missing = [s for s in page.body_strings if squash(s) not in flat]
    res.twice = [s for s in ex["body_key"] if flat.count(squash(s)) > 1]
    for name in META_FIELDS:
        if who != "ours" and name not in TRAF_FIELDS:
            continue
        got = meta.get(name)
        if ex.get(name) is not None:
            res.fields[name] = (got, ex[name])
        elif got:
            res.spurious[name] = got
    return res


def run_ours(page: RealPage, body: bytes) -> tuple[str, dict[str, Any]]:
    from archive.extract import extract_page

    ex = extract_page(body, page.content_type, page.url)
    return ex.text, {name: getattr(ex, name) for name in META_FIELDS}


def run_trafilatura(page: RealPage, body: bytes) -> tuple[str, dict[str, Any]]:
    html = decode_body(body, page.content_type).text
    text = trafilatura.extract(html, url=page.url, output_format="txt") or ""
    doc = extract_metadata(html, default_url=page.url)
    return text, {"title": doc.title if doc else None, "published": doc.date if doc else None}


def evaluate(page: RealPage) -> tuple[Score, Score]:
    body = page.body()
    out = []
    for who, run in (("ours", run_ours), ("trafilatura", run_trafilatura)):
        try:
            text, meta = run(page, body)
            out.append(score(page, who, text, meta))
        except Exception as exc:  # a crash is a result: everything missed
            res = score(page, who, "", {})
            res.error = f"{type(exc).__name__}: {exc}"
            out.append(res)
    return out[0], out[1]


@dataclass
class Totals:
    pages: int = 0
    chrome: int = 0
    chrome_listed: int = 0
    body: int = 0
    body_listed: int = 0
    twice: int = 0
    chars: int = 0
    errors: int = 0
    fields: dict[str, list[int]] = field(default_factory=dict)
    spurious: int = 0

    @classmethod
    def of(cls, scores: Iterable[Score]) -> Totals:
        t = cls()
        for s in scores:
            t.pages += 1
            t.chrome += len(s.chrome_left)
            t.chrome_listed += len(s.page.expected["noise"])
            t.body_listed += len(s.page.body_strings)
            t.body += len(s.page.body_strings) - len(s.body_missing)
            t.twice += bool(s.twice)
            t.chars += s.chars
            t.errors += s.error is not None
            t.spurious += len(s.spurious)
            for name, (got, _) in s.fields.items():
                pair = t.fields.setdefault(name, [0, 0])
                pair[0] += field_ok(name, got, s.page.expected)
                pair[1] += 1
        return t


def _rate(pair: list[int] | None) -> str:
    if not pair or not pair[1]:
        return "—"
    return f"{pair[0]}/{pair[1]} {100 * pair[0] / pair[1]:5.1f}%"


def table(ours: Totals, traf: Totals) -> list[str]:
    rows = [
        ("pages", str(ours.pages), str(traf.pages)),
        ("chrome strings left", f"{ours.chrome} of {ours.chrome_listed}",
         f"{traf.chrome} of {traf.chrome_listed}"),
        ("body strings found", f"{ours.body} of {ours.body_listed}",
         f"{traf.body} of {traf.body_listed}"),
        ("bodies emitted twice", str(ours.twice), str(traf.twice)),
        ("characters emitted", str(ours.chars), str(traf.chars)),
        ("crashes", str(ours.errors), str(traf.errors)),
    ]  # fmt: skip
    rows += [(f"  {name}", _rate(ours.fields.get(name)), _rate(traf.fields.get(name)))
             for name in META_FIELDS]  # fmt: skip
    rows.append(("  values where none shown", str(ours.spurious), "—"))
    w0 = max(len(r[0]) for r in rows) + 2
    return [f"{'':<{w0}}{'ours':<22}trafilatura", *(f"{a:<{w0}}{b:<22}{c}" for a, b, c in rows)]


def per_page(pairs: list[tuple[Score, Score]]) -> list[str]:
    lines = [f"{'page':<44}{'chrome o/t':>11}{'body o/t':>10}{'chars ours/traf':>18}"]
    for o, t in pairs:
        n = len(o.page.body_strings)
        lines.append(f"{o.page.file[:43]:<44}{len(o.chrome_left):>5} / {len(t.chrome_left):<3}"
                     f"{n - len(o.body_missing):>4}/{n - len(t.body_missing):<3}"
                     f"{o.chars:>9} / {t.chars:<7}")  # fmt: skip
    return lines


def failures(scores: list[Score], verbose: bool) -> list[str]:
    out = []
    for s in scores:
        wrong = {k: v for k, v in s.fields.items() if not field_ok(k, v[0], s.page.expected)}
        if not (s.chrome_left or s.body_missing or s.twice or wrong or s.error
                or (verbose and s.spurious)):
            continue
        out.append(s.page.file)
        if s.error:
            out.append(f"    crash: {s.error}")
        for text in s.chrome_left:
            out.append(f"    chrome left: {text}")
        for text in s.body_missing:
            out.append(f"    body missing: {text}")
        for text in s.twice:
            out.append(f"    twice: {text}")
        for name, (got, want) in wrong.items():
            out.append(f"    {name}: got {got!r} want {want!r}")
        if verbose:
            for name, got in s.spurious.items():
                out.append(f"    {name}: got {got!r} where the page shows none")
    return out


def verdict(ours: Totals, traf: Totals) -> list[str]:
    misses = []
    if ours.chrome > CHROME_RATIO * traf.chrome:
        misses.append(f"chrome left {ours.chrome} > 1/5 of trafilatura's {traf.chrome}")
    if ours.twice:
        misses.append(f"{ours.twice} pages with a body emitted twice")
    if ours.body < ours.body_listed:
        misses.append(f"{ours.body_listed - ours.body} body strings missing")
    for name, (ok, n) in ours.fields.items():
        if n and ok / n < FIELD_TARGET:
            misses.append(f"{name} {ok}/{n}")
    if ours.errors:
        misses.append(f"{ours.errors} crashes")
    return misses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.real_pages",
                                     description=__doc__.split("\n")[0])  # fmt: skip
    parser.add_argument("--dir", type=Path, default=REAL_PAGES, help="real-pages folder")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--verbose", action="store_true", help="also values where none is shown")
    args = parser.parse_args(argv)
    pages = load_real_pages(args.dir)
    if not pages:
        print(f"bench-real: no manifest.json in {args.dir}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    pairs = [evaluate(page) for page in pages]
    ours, traf = Totals.of(p[0] for p in pairs), Totals.of(p[1] for p in pairs)
    print(f"bench-real: {len(pages)} real portal pages from {args.dir}\n")
    print("\n".join(table(ours, traf)))
    print()
    print("\n".join(per_page(pairs)))
    fails = failures([p[0] for p in pairs], args.verbose)
    if fails:
        print(f"\nfailures (ours), {sum(not f.startswith(' ') for f in fails)} pages:")
        print("\n".join(fails))
    misses = verdict(ours, traf)
    print(f"\n({time.perf_counter() - started:.1f} s)")
    print("targets met" if not misses else "targets NOT met: " + "; ".join(misses))
    return 1 if (args.strict and misses) else 0


if __name__ == "__main__":
    sys.exit(main())
