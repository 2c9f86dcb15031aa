"""Child-process entry point of `archive.files.extract_isolated`."""

import sys

from archive.files import _child

sys.exit(_child(sys.argv[1:]))
