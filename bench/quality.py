"""`make bench-quality`: our cleaner against plain trafilatura on the labelled corpus (issue #3).

    python -m bench.quality [--strict] [--verbose]

Pages: every entry of labels.json (the five seeds in five portal templates, plus content-farm
mirror pages, which are reported apart and left out of the targets) and of portal_labels.json (the
13 sample-portal reports), both built from ../shared/seeds at run time (bench.corpus.corpus_dir,
builder tests/fixtures/quality/build_quality.py).  Both extractors get the
same raw bytes, Content-Type and URL in the same run:

- ours: ``archive.extract.extract_page(body, content_type, url)``; lines = ``ex.text`` split on
  "\\n"; metadata = its attributes;
- trafilatura: ``trafilatura.extract(html, url=url, output_format="txt")`` on the text from
  ``archive.decode.decode_body``; title and date from ``trafilatura.extract_metadata``; no other
  field is comparable.  Its output is converted traditional→simplified (OpenCC t2s) before scoring,
  because it has no script conversion and script is not what is measured here.

Metrics, per page and in total:

- norm(s): every whitespace run (full-width space and NBSP included) becomes one space, ends
  stripped.  Expected paragraphs are stored already normalised.
- paragraph recall = |{expected paragraphs p : p == norm(line) for some output line}| / |expected|.
  A paragraph merged with another one, cut in two or carrying chrome on the same line is missed.
- extra lines = non-empty output lines whose norm() is not an expected paragraph.
- noise = occurrences of bench.corpus.NOISE patterns in output lines that are not expected
  paragraphs, after masking every expected paragraph inside them (so "分享到了…成果" in a kept body
  sentence is never noise, but a body line with "分享到：微信" glued on is).
- metadata exact match, per field, over the pages whose labels carry the field (a page without a
  文号 has no doc_no label): got == want, as strings (report_year as int).

Targets (over all pages except mirrors): recall ≥ 0.99 on every page, zero noise, every field
exact on ≥ 98 % of the pages carrying it, and our noise strictly below trafilatura's.  Exit code 0
unless --strict, then 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import opencc
import trafilatura
from trafilatura.metadata import extract_metadata

from archive.decode import decode_body
from bench.corpus import FIELDS, LabelledPage, load_pages, noise_in, norm

RECALL_TARGET = 0.99
FIELD_TARGET = 0.98
TRAF_FIELDS = ("title", "published")
_T2S = opencc.OpenCC("t2s")


@dataclass
class Result:
    page: LabelledPage
    who: str  # ours | trafilatura
    found: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    noise: dict[str, int] = field(default_factory=dict)
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field → (got, want)
    error: str | None = None

    @property
    def recall(self) -> float:
        total = len(self.page.paragraphs)
        return self.found / total if total else 1.0

    @property
    def noise_total(self) -> int:
        return sum(self.noise.values())

    def wrong_fields(self) -> dict[str, tuple[Any, Any]]:
        return {k: (got, want) for k, (got, want) in self.fields.items() if got != want}


def run_ours(page: LabelledPage, body: bytes) -> tuple[list[str], dict[str, Any]]:
    from archive.extract import extract_page  # imported late: the cleaner is being reworked

    ex = extract_page(body, page.content_type, page.url)
    return (ex.text or "").split("\n"), {f: getattr(ex, f, None) for f in FIELDS}


def run_trafilatura(page: LabelledPage, body: bytes) -> tuple[list[str], dict[str, Any]]:
    html = decode_body(body, page.content_type).text
    text = trafilatura.extract(html, url=page.url, output_format="txt") or ""
    doc = extract_metadata(html, default_url=page.url)
    title = _T2S.convert(doc.title) if doc and doc.title else None
    meta = {"title": title, "published": doc.date if doc else None}
    return _T2S.convert(text).split("\n"), meta


def score(page: LabelledPage, who: str, lines: list[str], meta: dict[str, Any]) -> Result:
    res = Result(page, who)
    got = [norm(line) for line in lines if norm(line)]
    have = set(got)
    wanted = set(page.paragraphs)
    for para in page.paragraphs:
        if para in have:
            res.found += 1
        else:
            res.missing.append(para)
    res.extra = [line for line in got if line not in wanted]
    res.noise = noise_in(got, page.paragraphs)
    for name, want in page.metadata.items():
        if who == "ours" or name in TRAF_FIELDS:
            res.fields[name] = (meta.get(name), want)
    return res


def evaluate(page: LabelledPage) -> tuple[Result, Result]:
    body = page.body()
    out = []
    for who, run in (("ours", run_ours), ("trafilatura", run_trafilatura)):
        try:
            lines, meta = run(page, body)
            out.append(score(page, who, lines, meta))
        except Exception as exc:  # a crash is a result: every paragraph and field missed
            res = score(page, who, [], {})
            res.error = f"{type(exc).__name__}: {exc}"
            out.append(res)
    return out[0], out[1]


# ---------------------------------------------------------------- summaries


@dataclass
class Totals:
    pages: int = 0
    paragraphs: int = 0
    found: int = 0
    pages_ok: int = 0
    min_recall: tuple[float, str] = (1.0, "-")
    extra: int = 0
    noise: int = 0
    noisy_pages: int = 0
    errors: int = 0
    fields: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    def add(self, res: Result) -> None:
        self.pages += 1
        self.paragraphs += len(res.page.paragraphs)
        self.found += res.found
        self.pages_ok += res.recall >= RECALL_TARGET
        self.min_recall = min(self.min_recall, (res.recall, res.page.name))
        self.extra += len(res.extra)
        self.noise += res.noise_total
        self.noisy_pages += res.noise_total > 0
        self.errors += res.error is not None
        for name, (got, want) in res.fields.items():
            self.fields[name][0] += got == want
            self.fields[name][1] += 1

    @property
    def recall(self) -> float:
        return self.found / self.paragraphs if self.paragraphs else 1.0


def totals(results: list[Result]) -> Totals:
    t = Totals()
    for res in results:
        t.add(res)
    return t


def _rate(pair: list[int] | None) -> str:
    if not pair or not pair[1]:
        return "—"
    ok, n = pair
    return f"{ok}/{n} {100 * ok / n:5.1f}%"


def table(ours: Totals, traf: Totals) -> list[str]:
    rows = [
        ("pages", str(ours.pages), str(traf.pages)),
        ("paragraph recall (all)", f"{ours.recall:.4f}", f"{traf.recall:.4f}"),
        (f"pages with recall ≥ {RECALL_TARGET}", f"{ours.pages_ok}/{ours.pages}",
         f"{traf.pages_ok}/{traf.pages}"),
        ("lowest page recall", f"{ours.min_recall[0]:.3f}", f"{traf.min_recall[0]:.3f}"),
        ("extra lines", str(ours.extra), str(traf.extra)),
        ("noise strings left", f"{ours.noise} ({ours.noisy_pages} pages)",
         f"{traf.noise} ({traf.noisy_pages} pages)"),
        ("crashes", str(ours.errors), str(traf.errors)),
    ]  # fmt: skip
    rows += [(f"  {name}", _rate(ours.fields.get(name)), _rate(traf.fields.get(name)))
             for name in FIELDS if name in ours.fields]  # fmt: skip
    w0 = max(len(r[0]) for r in rows) + 2
    lines = [f"{'':<{w0}}{'ours':<22}trafilatura"]
    lines += [f"{a:<{w0}}{b:<22}{c}" for a, b, c in rows]
    return lines


def by_template(pairs: list[tuple[Result, Result]]) -> list[str]:
    groups: dict[str, list[tuple[Result, Result]]] = defaultdict(list)
    for ours, traf in pairs:
        groups[ours.page.template].append((ours, traf))
    lines = [
        f"{'template':<16}{'pages':>5}  {'recall ours/traf':<18}{'noise ours/traf':<17}meta ours"
    ]
    for name, group in groups.items():
        o = totals([p[0] for p in group])
        t = totals([p[1] for p in group])
        ok = sum(v[0] for v in o.fields.values())
        n = sum(v[1] for v in o.fields.values())
        lines.append(f"{name:<16}{o.pages:>5}  {o.recall:.3f} / {t.recall:.3f}   "
                     f"{o.noise:>4} / {t.noise:<6}   {ok}/{n}")  # fmt: skip
    return lines


def _short(text: str, verbose: bool, width: int = 36) -> str:
    return text if verbose or len(text) <= width else text[:width] + "…"


def failures(results: list[Result], verbose: bool) -> list[str]:
    out = []
    for res in results:
        wrong = res.wrong_fields()
        if res.recall >= RECALL_TARGET and not res.noise and not wrong and not res.error:
            continue
        out.append(f"{res.page.name}  recall {res.recall:.3f}  noise {res.noise_total}")
        if res.error:
            out.append(f"    crash: {res.error}")
        shown = res.missing if verbose else res.missing[:3]
        for para in shown:
            out.append(f"    missing: {_short(para, verbose)}")
        if len(res.missing) > len(shown):
            out.append(f"    … {len(res.missing) - len(shown)} more missing (--verbose)")
        if res.noise:
            out.append("    noise: " + ", ".join(f"{k}×{v}" for k, v in res.noise.items()))
        for name, (got, want) in wrong.items():
            out.append(f"    {name}: got {got!r} want {want!r}")
        if verbose and res.extra:
            for line in res.extra[:10]:
                out.append(f"    extra: {_short(line, False, 60)}")
    return out


def verdict(ours: Totals, traf: Totals, results: list[Result]) -> list[str]:
    misses = []
    low = [r.page.name for r in results if r.recall < RECALL_TARGET]
    if low:
        misses.append(f"recall < {RECALL_TARGET} on {len(low)} pages")
    if ours.noise:
        misses.append(f"{ours.noise} noise strings on {ours.noisy_pages} pages")
    if not ours.noise < traf.noise:
        misses.append(f"noise {ours.noise} not below trafilatura's {traf.noise}")
    for name, (ok, n) in ours.fields.items():
        if n and ok / n < FIELD_TARGET:
            misses.append(f"{name} {100 * ok / n:.1f}% < {100 * FIELD_TARGET:.0f}%")
    return misses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.quality", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is not met")
    parser.add_argument(
        "--verbose", action="store_true", help="full missing paragraphs, extra lines"
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    pairs = [evaluate(page) for page in load_pages()]
    scored = [p for p in pairs if p[0].page.quality != "mirror"]
    mirrors = [p for p in pairs if p[0].page.quality == "mirror"]
    ours = totals([p[0] for p in scored])
    traf = totals([p[1] for p in scored])
    n_quality = sum(p[0].page.corpus == "quality" for p in scored)

    print(f"bench-quality: {n_quality} corpus pages + {len(scored) - n_quality} sample-portal "
          f"reports ({len(mirrors)} mirror pages reported apart)")  # fmt: skip
    print()
    print("\n".join(table(ours, traf)))
    print()
    print("\n".join(by_template(pairs)))
    if mirrors:
        mo, mt = totals([p[0] for p in mirrors]), totals([p[1] for p in mirrors])
        print(f"\nmirror pages (not in targets): recall {mo.recall:.3f} vs {mt.recall:.3f}, "
              f"noise {mo.noise} vs {mt.noise}, extra lines {mo.extra} vs {mt.extra}")  # fmt: skip
    fails = failures([p[0] for p in pairs], args.verbose)
    if fails:
        print(f"\nfailures (ours), {sum(not line.startswith(' ') for line in fails)} pages:")
        print("\n".join(fails))
    misses = verdict(ours, traf, [p[0] for p in scored])
    print(f"\n({time.perf_counter() - started:.1f} s)")
    print("targets met" if not misses else "targets NOT met: " + "; ".join(misses))
    return 1 if (args.strict and misses) else 0


if __name__ == "__main__":
    sys.exit(main())
