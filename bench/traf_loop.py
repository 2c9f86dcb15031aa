"""Plain `trafilatura.extract` over saved report files in one process: prints JSON (pages, s).

`python -m bench.traf_loop LISTFILE` where LISTFILE holds one file path per line.
"""

from __future__ import annotations

import json
import sys
import time

import trafilatura


def main(list_file: str) -> int:
    with open(list_file, encoding="utf-8") as f:
        paths = [line.strip() for line in f if line.strip()]
    extracted = 0
    start = time.perf_counter()
    for path in paths:
        with open(path, encoding="utf-8") as page:
            if trafilatura.extract(page.read()):
                extracted += 1
    seconds = time.perf_counter() - start
    print(json.dumps({"pages": len(paths), "extracted": extracted, "seconds": seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
