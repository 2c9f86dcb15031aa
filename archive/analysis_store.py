"""Storage of what the reports say (#18): their parts, their figures, and a completeness row each.

Tables, all keyed by report url (the `reports` primary key):
- `report_sections`: one row per part found (heading as written, span, how it was found, text);
- `report_facts`: one row per figure (indicator, value, unit, approx, part, sentence, offsets,
  rate check);
- `report_parts`: one row per report: which of the five parts are present, how many figures,
  how many rate mismatches, and the content hash + analysis version it was computed from.
`save_analysis` replaces a report's rows, and does nothing when they were computed from the same
text by the same analysis version (a re-crawl of an unchanged report costs one lookup).
"""

from __future__ import annotations

import sqlite_utils

from archive.analysis import ANALYSIS_VERSION, Analysis, analyse_safely
from archive.constants import utcnow
from archive.facts import INDICATORS
from archive.sections import PART_NAMES, PARTS, parts_present

# The data dictionary of the three tables (docs/analysis.md; the year downloads ship it).
DICTIONARY: dict[str, dict[str, str]] = {
    "report_sections": {
        "url": "report (reports.url)", "seq": "order in the report",
        "part": "measures | shortcomings | leaders | plans | other | preamble",
        "part_name": "the part's name in the 2019 rule",
        "heading": "the heading as written (empty when the part has no heading of its own)",
        "how": "heading | subsection | item | sentence | paragraph: how the part was found",
        "start": "character offset of the section in reports.text",
        "end": "character offset just after the section", "text": "the section's text",
    },
    "report_facts": {
        "url": "report (reports.url)", "seq": "order in the report",
        "indicator": "indicator key (docs/analysis.md)", "family": "indicator family",
        "value": "the number (万/亿 and Chinese numerals resolved)",
        "value_text": "the number as written; occurs verbatim in sentence",
        "unit": "unit as written (件, 人次, %, …)", "approx": "1 when 余/约/多/近/超过/以上/左右",
        "part": "the part the sentence sits in", "sentence": "the sentence, verbatim",
        "sentence_start": "character offset of the sentence in reports.text",
        "position": "character offset of value_text in reports.text",
        "check_status": "rates only: ok | mismatch against the numerator/denominator given",
        "check_detail": "the computation behind check_status",
        "breakdown": "1 when the figure follows 其中: a part of the figure before it",
    },
    "report_parts": {
        "url": "report (reports.url)", **{p: f"1 when the report has {PART_NAMES[p]}"
                                          for p in PARTS},
        "parts_present": "how many of the five parts are present",
        "leaders_how": "how the leaders' part was found (heading, subsection, item, sentence)",
        "facts": "figures found", "mismatches": "rates that disagree with their own figures",
        "error": "why the analysis failed, when it did", "content_hash": "of the analysed text",
        "analysis_version": "sections + facts rules version", "analysed_at": "UTC time",
    },
}


TABLE_DESCRIPTIONS: dict[str, str] = {
    "report_sections": "报告的五个法定部分（按含义识别）· The five required parts of each report, "
                       "found by meaning; heading as written",
    "report_facts": "报告披露的法治政府建设数字，可追溯到原句 · Figures each report discloses, "
                    "each with its exact sentence (indicator keys: docs/analysis.md)",
    "report_parts": "每份报告的五部分完整性 · Which of the five parts each report has",
}


# The year downloads (archive.export): each table with its report's year and issuer, canonical
# copies only (a repost would count a report's figures twice).
EXPORT_VIEWS = {
    f"{table}_by_year": (
        f"CREATE VIEW IF NOT EXISTS {table}_by_year AS SELECT r.report_year, r.issuer, "
        f"r.issuer_id, r.issuer_level, r.province, t.* FROM {table} t "
        "JOIN reports r ON r.url = t.url WHERE r.copy_of IS NULL")
    for table in ("report_parts", "report_facts", "report_sections")
}


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create the tables and indexes if missing (idempotent). Opening an archive that has them
    writes nothing (health checks may open it while a crawl writes)."""
    _ensure_tables(db)
    views = set(db.view_names())
    if "copy_of" in db["reports"].columns_dict:
        for name, sql in EXPORT_VIEWS.items():
            if name not in views:
                db.execute(sql)


def _ensure_tables(db: sqlite_utils.Database) -> None:
    names = set(db.table_names())
    if {"report_sections", "report_facts", "report_parts"} <= names and \
            "breakdown" in db["report_facts"].columns_dict:
        return
    db["report_sections"].create(
        {"id": int, "url": str, "seq": int, "part": str, "part_name": str, "heading": str,
         "how": str, "start": int, "end": int, "text": str},
        pk="id", not_null={"url", "part"}, if_not_exists=True)
    db["report_facts"].create(
        {"id": int, "url": str, "seq": int, "indicator": str, "family": str, "value": float,
         "value_text": str, "unit": str, "approx": int, "part": str, "sentence": str,
         "sentence_start": int, "position": int, "check_status": str, "check_detail": str,
         "breakdown": int},
        pk="id", not_null={"url", "indicator", "value"}, if_not_exists=True)
    db["report_parts"].create(
        {"url": str, **{p: int for p in PARTS}, "parts_present": int, "leaders_how": str,
         "facts": int, "mismatches": int, "error": str, "content_hash": str,
         "analysis_version": str, "analysed_at": str},
        pk="url", if_not_exists=True)
    for table, column, type_ in (("report_facts", "breakdown", int),):  # added after the first
        if column not in db[table].columns_dict:                      # cut of the schema
            db[table].add_column(column, type_)
    db["report_sections"].create_index(["url", "seq"], if_not_exists=True)
    db["report_sections"].create_index(["part"], if_not_exists=True)
    db["report_facts"].create_index(["url", "seq"], if_not_exists=True)
    db["report_facts"].create_index(["indicator", "value"], if_not_exists=True)


def save_analysis(db: sqlite_utils.Database, report_url: str, text: str,
                  content_hash: str | None, analysis: Analysis | None) -> bool:
    """Replace a report's sections, facts and completeness row; False when already current.

    `analysis` is what `archive.derive` computed in its worker; None (a caller that did not
    derive) is computed here. Call inside the page's transaction."""
    row = db.execute("SELECT content_hash, analysis_version, error FROM report_parts "
                     "WHERE url = ?", [report_url]).fetchone()
    if row and row[0] == content_hash and row[1] == ANALYSIS_VERSION and row[2] is None:
        return False
    if analysis is None or analysis.version != ANALYSIS_VERSION:
        analysis = analyse_safely(text, report_url)
    db.execute("DELETE FROM report_sections WHERE url = ?", [report_url])
    db.execute("DELETE FROM report_facts WHERE url = ?", [report_url])
    # One statement per table, not per row: ~40 rows a report, each an execute() before.
    db.conn.executemany(_SECTION_INSERT, [
        (report_url, seq, s.part, PART_NAMES[s.part], s.heading, s.how, s.start, s.end,
         text[s.start:s.end]) for seq, s in enumerate(analysis.sections)])
    db.conn.executemany(_FACT_INSERT, [
        (report_url, seq, pf.fact.indicator, INDICATORS[pf.fact.indicator][0], pf.fact.value,
         pf.fact.value_text, pf.fact.unit, int(pf.fact.approx), pf.part, pf.fact.sentence,
         pf.fact.sentence_start, pf.fact.position, pf.fact.check, pf.fact.check_detail,
         int(pf.fact.breakdown)) for seq, pf in enumerate(analysis.facts)])
    present = parts_present(analysis.sections)
    leaders = next((s.how for s in analysis.sections if s.part == "leaders"), None)
    db.execute("INSERT OR REPLACE INTO report_parts (url, " + ", ".join(PARTS) +
               ", parts_present, leaders_how, facts, mismatches, error, content_hash, "
               "analysis_version, analysed_at) VALUES (" + ", ".join("?" * (len(PARTS) + 9)) +
               ")",
               [report_url, *(int(present[p]) for p in PARTS), sum(present.values()), leaders,
                len(analysis.facts),
                sum(pf.fact.check == "mismatch" for pf in analysis.facts), analysis.error,
                content_hash, ANALYSIS_VERSION,
                utcnow()])
    return True


_SECTION_INSERT = (
    "INSERT INTO report_sections (url, seq, part, part_name, heading, how, start, [end], text) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
_FACT_INSERT = (
    "INSERT INTO report_facts (url, seq, indicator, family, value, value_text, unit, approx, "
    "part, sentence, sentence_start, position, check_status, check_detail, breakdown) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
