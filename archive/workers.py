"""What a crawl's child processes start with: the fork server imports this module once, and every
extraction worker (and the writer process, `archive.ingest.serve`) it forks inherits the loaded
code instead of importing it itself.

Importing it ends with `gc.freeze()`: the objects loaded so far move to the collector's permanent
generation, so a worker's garbage collections never write to them. Without it every collection
touches every object's header, and each worker ends up with a private copy of nearly all the
memory it inherited (measured: 44 MB private per worker, 8 MB still shared). Only the fork server
(and `reextract`'s parent, just before it forks) should import it.
"""

from __future__ import annotations

import gc

import trafilatura  # noqa: F401  the fallback extractor (archive.extract imports it on first use)

import archive.derive
import archive.ingest  # noqa: F401

gc.collect()
gc.freeze()
