"""The search index form: a phrase of character pairs matches exactly the texts containing it."""

from __future__ import annotations

import sqlite3

import pytest

from archive.search import fts_query, index_form, matches, needs_exact_check

DOCS = ["行政复议案件审结率100%", "甲乙，乙丙丁", "普法宣传 复 议", "2023年法治政府建设（一）",
        "行政机关负责人出庭应诉率达到100%"]


@pytest.fixture(scope="module")
def fts() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE s USING fts5(uni, bi, content='', "
                 "tokenize='unicode61 remove_diacritics 2')")
    for rowid, doc in enumerate(DOCS, 1):
        conn.execute("INSERT INTO s (rowid, uni, bi) VALUES (?, ?, ?)", (rowid, *index_form(doc)))
    return conn


@pytest.mark.parametrize("query", ["复议", "甲乙丙", "乙丙丁", "行政机关负责人出庭应诉率", "2023年",
                                   "复", "（一）", "普法 复议", "丁"])
def test_fts_plus_exact_check_equals_substring(fts: sqlite3.Connection, query: str) -> None:
    hits = {r[0] for r in fts.execute("SELECT rowid FROM s WHERE s MATCH ?", [fts_query(query)])}
    truth = {i for i, doc in enumerate(DOCS, 1) if matches("", doc, query)}
    assert truth <= hits  # FTS never misses
    if not any(needs_exact_check(t) for t in query.split()):
        assert hits == truth  # and is exact on its own for plain CJK/digit terms


def test_phrase_does_not_match_across_punctuation(fts: sqlite3.Connection) -> None:
    hits = fts.execute("SELECT rowid FROM s WHERE s MATCH ?", [fts_query("甲乙丙")]).fetchall()
    assert hits == []  # "甲乙，乙丙丁" does not contain 甲乙丙
