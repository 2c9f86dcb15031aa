"""The figures a report discloses about rule-of-law work, each traceable to its sentence.

A pure function of the report's clean text: `extract_facts(text)` finds quantities (Arabic or
Chinese numerals, 万/亿, approximate markers 余/约/多/近/超过/以上/左右) and names each with an
indicator key of `INDICATORS` from the words of its clause and of the clauses before it in the same
sentence. Figures of other topics (技术合同, 营业执照…) are left out: a figure is kept only when a
rule of its family matches. Rates are checked against their numerator and denominator when the
sentence (or the one before) gives both, or an explicit "(236/977)"; a mismatch is flagged, never
corrected. Every `value_text` occurs verbatim in `sentence`, and `sentence` at `sentence_start`
in the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from archive.patterns import RE

# indicator key → (family, description). The keys are the documented vocabulary of report_facts.
INDICATORS: dict[str, tuple[str, str]] = {
    "review_received": ("review", "行政复议 申请/案件 收到、新收"),
    "review_accepted": ("review", "行政复议 受理、立案"),
    "review_decided": ("review", "行政复议 办结、审结"),
    "review_corrected": ("review", "行政复议 纠错（撤销、变更、确认违法…）件数"),
    "review_cases": ("review", "行政复议 办理案件数（未说明收/结）"),
    "review_correction_rate": ("review", "行政复议 纠错率 / 综合纠错率 %"),
    "review_direct_correction_rate": ("review", "行政复议 直接纠错率 %"),
    "review_indirect_correction_rate": ("review", "行政复议 间接纠错率 %"),
    "litigation_cases": ("litigation", "行政诉讼/行政应诉 案件数"),
    "litigation_lost": ("litigation", "行政诉讼 败诉案件数"),
    "litigation_loss_rate": ("litigation", "行政诉讼 败诉率 %"),
    "appearance_rate": ("appearance", "行政机关负责人出庭应诉率 %"),
    "appearance_times": ("appearance", "负责人出庭应诉 次数/人次/件数"),
    "normdoc_reviewed": ("normdoc", "规范性文件 审核/审查 件数"),
    "normdoc_filed": ("normdoc", "规范性文件 报送备案/备案审查 件数"),
    "normdoc_cleaned": ("normdoc", "规范性文件 清理/废止/修订 件数"),
    "normdoc_issued": ("normdoc", "规范性文件 制定/出台 件数"),
    "legality_reviewed": ("legality", "合法性审核：合同、决策、文件等审查件数"),
    "decision_count": ("decision", "重大行政决策 事项/件数"),
    "enforcement_cases": ("enforcement", "行政执法/行政处罚 案件数"),
    "enforcement_personnel": ("enforcement", "行政执法人员 人数"),
    "enforcement_certified": ("enforcement", "持行政执法证件 人数/证件数"),
    "enforcement_certified_rate": ("enforcement", "执法人员持证率 %"),
    "enforcement_trained": ("enforcement", "行政执法人员 培训人数/人次"),
    "enforcement_files": ("enforcement", "行政执法案卷 评查/抽查 数"),
    "counsel_advisers": ("counsel", "法律顾问 人数"),
    "counsel_public_lawyers": ("counsel", "公职律师 人数"),
    "power_list_items": ("power_list", "权责清单 事项数"),
    "pufa_activities": ("pufa", "普法/法治宣传 活动、讲座 场次"),
    "pufa_participants": ("pufa", "普法活动 参与/受众 人数"),
    "pufa_materials": ("pufa", "普法宣传资料/宣传品 份数"),
    "study_sessions": ("study", "学法（中心组学法、专题学习、学法讲座）次数"),
    "study_participants": ("study", "学法考试/旁听庭审等 参加人数"),
    "mediation_disputes": ("mediation", "矛盾纠纷 排查/调处/受理 件数"),
    "mediation_success": ("mediation", "矛盾纠纷 调解成功/化解 件数"),
    "mediation_success_rate": ("mediation", "调解成功率/化解率 %"),
    "legal_aid_cases": ("legal_aid", "法律援助 案件数（另含的一族）"),
}
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(f for f, _ in INDICATORS.values()))
FACTS_VERSION = "4"


@dataclass(frozen=True, slots=True)
class Fact:
    indicator: str
    value: float
    value_text: str        # the number as written, 万/亿 included ("31.5万", "一百二十")
    unit: str              # 件, 人次, %, …
    approx: bool           # 余/约/多/近/超过/以上/左右
    sentence: str
    sentence_start: int    # offset of `sentence` in the text
    position: int          # offset of `value_text` in the text
    check: str | None = None    # rates only: ok | mismatch (None: no numerator/denominator given)
    check_detail: str | None = None
    breakdown: bool = False     # after 其中: a part of the figure before it, not a total

    @property
    def family(self) -> str:
        return INDICATORS[self.indicator][0]


# -- numbers ------------------------------------------------------------------------------------
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}


def chinese_number(s: str) -> int | None:
    """一百二十 → 120, 十五 → 15, 三 → 3; None when `s` is not a plain Chinese numeral."""
    total, digit, seen = 0, None, False
    for ch in s:
        if ch in _CN_DIGITS:
            if digit is not None:  # 一二 is not a number
                return None
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            total += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
        else:
            return None
        seen = True
    if not seen:
        return None
    return total + (digit or 0)


_UNITS = ("个班次|件次|人次|场次|家次|班次|万元|亿元|"
          "件|宗|起|人|名|位|次|场|项|个|期|份|条|家|所|册|卷|%|％")
_NUMBER = re.compile(
    # what a match can start with (the same matches; the rest is tried only there: 4× faster)
    r"(?=[超近约逾\d零〇一二两三四五六七八九十百千])"
    r"(?P<pre>超过|超|近|约|逾)?"
    # never inside a run of digits/numerals: each attempt is O(1), the scan linear
    r"(?P<num>(?<!\d)(?<!\d[.,])\d+(?:,\d{3})*(?:\.\d+)?"
    r"|(?<![零〇一二两三四五六七八九十百千])[零〇一二两三四五六七八九十百千]+)"
    r"(?P<mag>万|亿)?(?P<post>余|多)?"
    rf"(?P<unit>{_UNITS})"
    r"(?P<after>以上|左右)?"
)
# A one-character Chinese numeral is a count only after a verb-like word ("开展学法五次"), not
# in 一是, 一审, 三项制度; longer ones (十五, 六十三) are numbers (八五, 十四五 are not numerals).
_CN_OK_BEFORE = re.compile(r"(?:共|计|达|为|开展|举办|召开|组织|办理|审查|审核|收到|受理|学法|学习|"
                           r"培训|讲座|活动|研究)$")
_SENTENCE = re.compile(r"[^。！？；;!?\n]+[。！？；;!?]?")
_CLAUSE_SPLIT = re.compile(r"[，,：:、]")


# -- indicator rules ----------------------------------------------------------------------------
def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_COUNT_UNITS = {"件", "宗", "起", "件次"}
_PEOPLE = {"人", "名", "位"}
_VERBS = _rx(r"办结|审结|结案|受理|收到|新收|立案|化解|调解|审查|审核|备案|清理|废止|"
             r"出台|制定|印发|"
             r"开展|组织|举办|召开|查处|查办|办理|纠正|撤销|出庭|培训|评查|抽查|发放|参加|参与|"
             r"聘请|配备|中止|终止|起诉|移送|提出|出具|作出|维持|驳回|撤回|起草|报送|报备")


@dataclass(frozen=True, slots=True)
class _Ctx:
    lead: str      # the clause before the number
    trail: str     # the clause after the unit
    before: str    # the sentence before this clause (earlier clauses)
    prev_sentence: str
    unit: str


def _has(pattern: str, *texts: str) -> bool:
    return any(RE[pattern].search(t) for t in texts)


def _count_indicator(c: _Ctx) -> str | None:
    """The indicator of a count (not a rate), or None when it is not a rule-of-law figure."""
    lead, trail, before, unit = c.lead, c.trail, c.before, c.unit
    near = lead + "|" + trail
    sent = before + "|" + lead
    if unit in ("万元", "亿元"):
        return None
    if RE[r"意见|建议|问题|线索|隐患"].search(lead[-6:]):  # 出具法律意见1037份, 提出问题23条
        return None
    # appearance in court by agency heads
    if "出庭" in lead and unit in _COUNT_UNITS | {"人次", "次"} | _PEOPLE:
        return "appearance_times"
    # administrative reconsideration
    if "复议" in lead or ("复议" in before and not RE[r"诉讼|应诉|法律援助|调解"].search(lead)):
        if unit in _COUNT_UNITS:
            if RE[r"直接纠错|纠错|撤销|变更|确认违法|责令履行"].search(lead):
                return "review_corrected"
            if RE[r"办结|审结|结案|作出.{0,6}决定"].search(lead):
                return "review_decided"
            if RE[r"受理|立案"].search(lead):
                return "review_accepted"
            if RE[r"收到|新收|收案|接收|申请"].search(lead):
                return "review_received"
            if RE[r"诉讼|维持|驳回|撤回|中止|终止"].search(lead):  # outcomes other than 纠错
                return None
            if "复议" in lead and "案件" in lead and not RE[r"中止|终止|起诉|移交"].search(lead):
                return "review_cases"
        return None
    # administrative litigation
    if RE[r"行政诉讼|应诉案件|一审行政案件|行政案件"].search(lead) and "法律援助" not in sent:
        if unit in _COUNT_UNITS:
            if "败诉" in lead:
                return "litigation_lost"
            if RE[r"结案|审结|办结"].search(lead):
                return None
            return "litigation_cases"
        return None
    if "败诉" in lead and "诉讼" in sent and unit in _COUNT_UNITS:
        return "litigation_lost"
    # legal aid (an extra family)
    if "法律援助" in lead and "案件" in lead and unit in _COUNT_UNITS:
        return "legal_aid_cases"
    # normative documents
    if _has(r"规范性文件", near) or (
            _has(r"规范性文件", before) and RE[r"文件|备案|清理|废止"].search(lead)):
        if unit in _COUNT_UNITS | {"份", "个"}:
            if RE[r"会商|讨论|征求"].search(lead):
                return None
            if RE[r"清理|废止|修订|修改|失效"].search(near):
                return "normdoc_cleaned"
            if RE[r"备案|报备"].search(lead):
                return "normdoc_filed"
            if RE[r"审核|审查"].search(near):  # "对31件…规范性文件进行合法性审核"
                return "normdoc_reviewed"
            if RE[r"出台|制定|印发|发布|制发|起草"].search(lead):
                return "normdoc_issued"
        return None
    # legality review: contracts, decisions, documents
    if unit in _COUNT_UNITS | {"份"} and (
            RE[r"合法性审[核查]|法律审核|合法性审核"].search(lead)
            or RE[r"审[核查].{0,20}合同|合同.{0,8}(?:法律|合法性)?审[核查]"].search(lead)
            or RE[r"^[^，,]{0,4}合同.{0,8}(?:合法性|法律)审[核查]"].search(trail)):
        return "legality_reviewed"
    # major administrative decisions
    if "重大行政决策" in lead and unit in _COUNT_UNITS | {"项", "个", "次"}:
        return "decision_count"
    # power and responsibility lists
    if RE[r"权责清单|权力清单|权责事项|责任事项|行政权力"].search(near) and unit in ("项", "条",
                                                                                 "个"):
        return "power_list_items"
    # enforcement
    if "案卷" in near and RE[r"评查|抽查|抽取|检查"].search(near) and unit in _COUNT_UNITS | {"份",
                                                                               "卷", "个"}:
        return "enforcement_files"
    if unit in _PEOPLE | {"人次"} and "执法" in near and RE[r"培训|轮训"].search(near):
        return "enforcement_trained"
    if unit in _PEOPLE | {"个"} and RE[r"执法证|持证"].search(near):
        return "enforcement_certified"
    if (unit in _PEOPLE and RE[r"执法人员|执法队员"].search(lead)
            and not RE[r"出动|人次"].search(lead)):
        return "enforcement_personnel"
    if (unit in _COUNT_UNITS and RE[r"案件|立案|处罚决定"].search(lead)
            and RE[r"查处|查办|执法|处罚|违法"].search(sent)
            and not RE[r"纠纷|调解|法律援助|公证|法院|法庭|涉诉"].search(sent)):
        return "enforcement_cases"
    # lawyers and counsel
    if unit in _PEOPLE and "公职律师" in near:
        return "counsel_public_lawyers"
    if unit in _PEOPLE and "法律顾问" in near:
        return "counsel_advisers"
    # study of law by officials (before pufa: 学法 is not 普法)
    if RE[r"学法|领导干部.{0,6}讲座|中心组学习|学习习近平法治思想|学习.{0,4}法治思想|"
          r"旁听|法治理论知识|专题辅导|法律知识考试"].search(near):
        if unit in ("次", "场", "期", "班次", "个班次", "场次"):
            return "study_sessions"
        if unit in _PEOPLE | {"人次"}:
            return "study_participants"
        return None
    if (unit in _PEOPLE | {"人次"} and RE[r"参考|参训|参学|参加考试"].search(lead)
            and RE[r"学法|法治理论|法律知识|法治思想"].search(before)):
        return "study_participants"   # "…参加法治理论考试，参考人数达860人"
    # legal education of the public
    if RE[r"普法|法治宣传|宣传活动|法治讲座|专题讲座|宣讲|送法|以案释法|法治课|"
          r"宣传资料|宣传品|宣传手册|宣传册|宣传单"].search(near):
        if unit in ("次", "场", "场次", "期", "个"):
            return "pufa_activities"
        if unit in ("人次", "人") and RE[r"参与|参加|受众|覆盖|群众"].search(near):
            return "pufa_participants"
        if unit in ("份", "册", "件") and RE[r"资料|宣传品|手册|宣传册"].search(near):
            return "pufa_materials"
        return None
    if (unit in ("人次", "人") and RE[r"受众|受教育|参与|覆盖"].search(lead)
            and RE[r"普法|法治宣传|宣传活动|法治讲座"].search(before)):
        return "pufa_participants"
    # disputes and mediation
    if RE[r"撤诉|法庭|审结"].search(sent):  # court mediation is not the agency's
        return None
    if unit in _COUNT_UNITS and (
            RE[r"纠纷|调解|调处"].search(lead)
            or (RE[r"纠纷|调解"].search(before) and RE[r"化解|成功"].search(lead))):
        if RE[r"成功|化解"].search(lead) and not RE[r"排查|摸排|受理|收到|调处"].search(lead):
            return "mediation_success"
        if RE[r"排查|摸排|调处|受理|收到|调解|化解"].search(lead) or (
                "其中" in lead and "纠纷" in lead):
            return "mediation_disputes"
    return None


_RATE = re.compile(r"(?P<kw>[\u4e00-\u9fff]{0,8}率)(?:为|达|达到|是|均为|保持|保持在|实现|提升至|"
                   r"提高到|提高至|稳定在|维持在)?(?P<pre>约|近|超过)?$")


def _rate_indicator(kw: str, c: _Ctx) -> str | None:
    sent = c.before + "|" + c.lead
    if "纠错率" in kw and "复议" in sent:
        if "直接" in kw:
            return "review_direct_correction_rate"
        if "间接" in kw:
            return "review_indirect_correction_rate"
        return "review_correction_rate"
    if "败诉率" in kw:
        return "litigation_loss_rate"
    if "出庭" in kw or (kw.endswith("应诉率") and "负责人" in sent):
        return "appearance_rate"
    if RE[r"持证.{0,3}率"].search(kw):
        return "enforcement_certified_rate"
    if (RE[r"调解成功率|调处成功率|化解成功率|化解率|成功率"].search(kw)
            and RE[r"纠纷|调解|调处"].search(sent)):
        return "mediation_success_rate"
    return None


# -- sentence and clause walking ----------------------------------------------------------------
MAX_SENTENCE = 400  # longer "sentences" (tables, text without 。) are cut at clause marks


def sentences(text: str) -> Iterator[tuple[int, str]]:
    """(offset, sentence) in text order; a run-on longer than MAX_SENTENCE is cut after a
    clause mark (or hard), which keeps the per-figure context work linear in the text."""
    for m in _SENTENCE.finditer(text):
        s, start = m.group(), m.start()
        while len(s) > MAX_SENTENCE:
            cut = max(s.rfind(p, 0, MAX_SENTENCE) for p in "，,、|") + 1 or MAX_SENTENCE
            if s[:cut].strip():
                yield start, s[:cut]
            s, start = s[cut:], start + cut
        if s.strip():
            yield start, s


def _value(m: re.Match[str]) -> tuple[float, str] | None:
    raw = m.group("num")
    if raw[0].isdigit():
        number = float(raw.replace(",", ""))
    else:
        cn = chinese_number(raw)
        if cn is None:
            return None
        number = float(cn)
    mag = m.group("mag")
    if mag == "万":
        number *= 1e4
    elif mag == "亿":
        number *= 1e8
    return number, raw + (mag or "")


def number_value(value_text: str) -> float | None:
    """The number a `value_text` stands for ("31.5万" → 315000.0, "八" → 8.0)."""
    m = RE[r"(?P<num>\d+(?:,\d{3})*(?:\.\d+)?|[零〇一二两三四五六七八九十百千]+)"
           r"(?P<mag>万|亿)?"].fullmatch(value_text)
    if not m:
        return None
    if m.group("num")[0].isdigit():
        number = float(m.group("num").replace(",", ""))
    else:
        cn = chinese_number(m.group("num"))
        if cn is None:
            return None
        number = float(cn)
    return number * {"万": 1e4, "亿": 1e8}.get(m.group("mag") or "", 1)


def _clause_start(s: str, pos: int) -> int:
    starts = [mm.end() for mm in _CLAUSE_SPLIT.finditer(s, 0, pos)]
    return starts[-1] if starts else 0


def _clause_end(s: str, pos: int) -> int:
    mm = _CLAUSE_SPLIT.search(s, pos)
    return mm.start() if mm else len(s)


def _sentence_facts(text: str, start: int, s: str, prev: str) -> list[Fact]:
    out: list[Fact] = []
    parent: Fact | None = None     # the last fact before 其中 (breakdowns inherit it)
    in_breakdown = False
    last: Fact | None = None
    for m in _NUMBER.finditer(s):
        got = _value(m)
        if got is None:
            continue
        value, value_text = got
        unit = m.group("unit").replace("％", "%")
        raw_unit = m.group("unit")
        cstart = _clause_start(s, m.start())
        lead = s[cstart:m.start()]
        after = s[m.end():m.end() + 1]
        raw = m.group("num")
        if not raw[0].isdigit() and (
                not (_CN_OK_BEFORE.search(lead) or len(raw) >= 2)
                or (after and after in "性是")):
            continue
        if s[m.start() - 1:m.start()] in ("第", "前") or after in ("年", "月", "日"):
            continue
        if "其中" in lead and not in_breakdown:
            parent, in_breakdown = last, True
        trail = s[m.end():_clause_end(s, m.end())]
        ctx = _Ctx(lead, trail, s[:cstart], prev, unit)
        approx = bool(m.group("pre") or m.group("post") or m.group("after"))
        if unit == "%":
            rm = _RATE.search(lead)
            indicator = _rate_indicator(rm.group("kw"), ctx) if rm else None
            if rm and rm.group("pre"):
                approx = True
        else:
            indicator = _count_indicator(ctx)
            if in_breakdown and parent is not None and unit == parent.unit:
                if indicator is None or INDICATORS[indicator][0] != parent.family:
                    indicator = parent.indicator if not _VERBS.search(lead) else indicator
            elif (indicator is None and last is not None and unit == last.unit
                  and not _VERBS.search(lead) and len(lead) <= 14 and "案件" not in lead
                  and last.family in ("pufa", "study", "legality", "normdoc")):
                # a parallel listing: "民法典进机关87场、长江保护法进机关42场"
                indicator = last.indicator
            elif (indicator is None and last is not None and last.indicator == "enforcement_cases"
                  and RE[r"(?:已|共)?(?:办结|结案)"].match(lead)):
                indicator = "enforcement_cases"  # "立案查处…案件1876件，办结1802件"
        if indicator is None:
            continue
        vstart = m.start("num")
        fact = Fact(indicator, value, value_text, raw_unit if unit != "%" else "%", approx, s,
                    start, start + vstart, breakdown=in_breakdown)
        out.append(fact)
        last = fact
    return out


_EXPLICIT = re.compile(r"[(（]\s*(\d+)\s*/\s*(\d+)\s*[)）]")
# rate → (numerator indicators, denominator indicators)
_RATE_PARTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "review_correction_rate": (("review_corrected",), ("review_decided", "review_accepted")),
    "review_direct_correction_rate": (("review_corrected",), ("review_decided",
                                                              "review_accepted")),
    "mediation_success_rate": (("mediation_success",), ("mediation_disputes",)),
    "litigation_loss_rate": (("litigation_lost",), ("litigation_cases",)),
}


def _tolerance(fact: Fact) -> float:
    decimals = len(fact.value_text.split(".")[1]) if "." in fact.value_text else 0
    tol = 0.5 * 10 ** -decimals + 0.01
    return max(tol, 1.0) if fact.approx else tol


def _check_rate(fact: Fact, nearby: list[Fact]) -> Fact:
    tail = fact.sentence[fact.position - fact.sentence_start:]
    explicit = _EXPLICIT.match(tail[len(fact.value_text) + 1:].lstrip())
    num = den = None
    if explicit:
        num, den = float(explicit.group(1)), float(explicit.group(2))
    elif fact.indicator in _RATE_PARTS:
        nums, dens = _RATE_PARTS[fact.indicator]
        # numerator and denominator from one sentence: this one, else the one before
        for group in ([f for f in nearby if f.sentence_start == fact.sentence_start],
                      [f for f in nearby if f.sentence_start < fact.sentence_start]):
            before = [f for f in group if f.position < fact.position]
            n = [f for f in before if f.indicator in nums]
            d = [f for f in before if f.indicator in dens]
            if n and d:
                num, den = n[-1].value, d[-1].value
                break
            if n or d:
                break
    if num is None or not den:
        return fact
    got = num / den * 100
    ok = abs(got - fact.value) <= _tolerance(fact)
    detail = f"{num:g}/{den:g} = {got:.2f}%, stated {fact.value_text}%"
    return replace(fact, check="ok" if ok else "mismatch", check_detail=detail)


def extract_facts(text: str) -> list[Fact]:
    """Every rule-of-law figure of the text, in text order."""
    facts: list[Fact] = []
    prev = ""
    prev_facts: list[Fact] = []
    for start, s in sentences(text):
        found = _sentence_facts(text, start, s, prev)
        checked = [(_check_rate(f, prev_facts + found) if f.unit == "%" else f) for f in found]
        facts.extend(checked)
        prev, prev_facts = s, found
    return facts
