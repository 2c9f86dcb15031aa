"""`python -m crawler.distributed writer|crawler …` (see crawler.distributed).

The command lives in a package's `__main__` so that the extraction workers (forkserver) do not
import it again as their `__mp_main__`: multiprocessing skips `*.__main__` modules, and importing
crawler.distributed (Scrapy, Redis) cost each worker ~0.8 s of CPU at start-up.
"""

import sys

from crawler.distributed import main

sys.exit(main())
