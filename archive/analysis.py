"""What a report says: its parts and its figures, as one picklable value computed at derive time.

`analyse(text)` runs `sections.split_sections` and `facts.extract_facts` and places each figure
in the part it sits in. Figures in the next-year plans are targets, not results: they are dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from archive.facts import FACTS_VERSION, Fact, extract_facts
from archive.sections import SECTIONS_VERSION, Section, part_at, split_sections

ANALYSIS_VERSION = f"s{SECTIONS_VERSION}.f{FACTS_VERSION}"
logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PlacedFact:
    fact: Fact
    part: str | None


@dataclass(slots=True)
class Analysis:
    sections: list[Section] = field(default_factory=list)
    facts: list[PlacedFact] = field(default_factory=list)
    version: str = ANALYSIS_VERSION
    error: str | None = None      # why analysis failed (then no sections, no facts)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Analysis:
        """Back from `dataclasses.asdict` (the distributed mode sends derived results as JSON)."""
        return cls([Section(**s) for s in d.get("sections", [])],
                   [PlacedFact(Fact(**f["fact"]), f["part"]) for f in d.get("facts", [])],
                   d.get("version", ""), d.get("error"))


def analyse(text: str) -> Analysis:
    sections = split_sections(text)
    placed = []
    for f in extract_facts(text):
        part = part_at(sections, f.position)
        if part == "plans":
            continue
        placed.append(PlacedFact(f, part))
    return Analysis(sections, placed)


def analyse_safely(text: str, url: str = "") -> Analysis:
    """`analyse`, with a failure logged and recorded in the result, never raised."""
    try:
        return analyse(text)
    except Exception as exc:  # a bug in one rule must not lose the page it ran on
        logger.warning("analysis failed for %s: %r", url, exc)
        return Analysis(error=f"{type(exc).__name__}: {exc}")
