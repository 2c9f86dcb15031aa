"""`python -m bench.same_output`: prove that a change to the cleaner's speed left its output alone.

    python -m bench.same_output --save before.json      # on the old code
    python -m bench.same_output --check before.json     # on the new code: exit 1 on any difference

Runs `archive.derive.derive` — the whole per-page step the crawl runs in its workers (problem
detection, extraction, parts and figures, search-index form) — on every page of three sets and
records, per page, a digest of the complete result (every field of the record, the text, the
index form) plus its title and text length for a readable diff:

- the synthetic benchmark portal (`bench.synth`, the same seed as `make bench`; 33–79 KiB pages,
  5 % traditional script), 20 sources × `--per-source` pages, plus the 33 KiB-page variant;
- the labelled quality corpus and the sample portal's pages (`bench.corpus`, built from the seeds);
- the real portal pages in ../shared/real-pages.

`--sample N` takes every N-th page of each set (the test runs a sample).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from archive.derive import Derived, derive
from bench import synth
from bench.corpus import load_pages
from bench.real_pages import load_real_pages

Page = tuple[str, bytes, str, str]  # (name, body, content type, url)


def synth_pages(root: Path, per_source: int, page_kib: int | None) -> Iterator[Page]:
    portal = synth.generate(root, 20, per_source, page_kib=page_kib)
    label = f"synth{page_kib or ''}"
    for site in portal.sites:
        for path in site.reports:
            body = (root / path.lstrip("/")).read_bytes()
            yield f"{label}:{path}", body, "text/html; charset=utf-8", site.url(path, 80)


def corpus_pages() -> Iterator[Page]:
    for p in load_pages():
        yield f"corpus:{p.name}", p.body(), p.content_type, p.url


def real_pages() -> Iterator[Page]:
    for p in load_real_pages():
        yield f"real:{p.file}", p.body(), p.content_type, p.url


def _plain(value: Any) -> str:
    """The index form's pairs travel as UTF-8 bytes: digest the text they encode, as before."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def fingerprint(derived: Derived) -> dict[str, Any]:
    """A digest of every field of the result, plus what a person reads in a diff."""
    full = json.dumps(dataclasses.asdict(derived), ensure_ascii=False, sort_keys=True,
                      default=_plain)
    ex = derived.extraction
    return {"digest": hashlib.sha256(full.encode("utf-8")).hexdigest()[:20],
            "kind": ex.kind if ex else None, "title": ex.title if ex else None,
            "chars": len(ex.text) if ex else 0,
            "problem": derived.problem.outcome if derived.problem else None}


def run(per_source: int, sample: int, work: Path) -> dict[str, dict[str, Any]]:
    sets = [synth_pages(work / "synth", per_source, None),
            synth_pages(work / "synth33", per_source, 33), corpus_pages(), real_pages()]
    out: dict[str, dict[str, Any]] = {}
    for pages in sets:
        for n, (name, body, content_type, url) in enumerate(pages):
            if n % sample == 0:
                derived = derive(body, {"Content-Type": content_type}, 200, url, False)
                out[name] = fingerprint(derived)
    return out


def compare(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> list[str]:
    """One line per page whose result differs, is missing or is new."""
    lines = []
    for name in sorted(before.keys() | after.keys()):
        a, b = before.get(name), after.get(name)
        if a != b:
            lines.append(f"{name}: before {a} after {b}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.same_output",
                                     description=(__doc__ or "").split("\n")[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--save", type=Path, help="write the fingerprints here")
    what.add_argument("--check", type=Path, help="compare with fingerprints saved earlier")
    parser.add_argument("--per-source", type=int, default=50,
                        help="synthetic report pages per source (20 sources)")
    parser.add_argument("--sample", type=int, default=1, help="every N-th page of each set")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fzzf-same-") as tmp:
        result = run(args.per_source, args.sample, Path(tmp))
    if args.save:
        args.save.write_text(json.dumps(result, ensure_ascii=False, indent=0, sort_keys=True),
                             encoding="utf-8")
        print(f"same-output: {len(result)} pages fingerprinted into {args.save}")
        return 0
    diff = compare(json.loads(args.check.read_text(encoding="utf-8")), result)
    for line in diff:
        print(line)
    print(f"same-output: {len(result)} pages, {len(diff)} differ")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
