"""Compiled regular expressions looked up by their text, for rules that read best with the
pattern written where it is used: `RE[r"复议|诉讼"].search(lead)`.

`re.search(pattern, text)` looks its pattern up in the re module's cache on every call, which
costs as much as the search itself on the short strings the rules test; a dict lookup by the
(interned, hash-cached) literal costs a tenth of that. Each pattern is compiled on first use.
"""

from __future__ import annotations

import re


class _Compiled(dict[str, re.Pattern[str]]):
    def __missing__(self, pattern: str) -> re.Pattern[str]:
        compiled = self[pattern] = re.compile(pattern)
        return compiled


RE = _Compiled()
