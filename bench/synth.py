"""A synthetic portal for the performance benchmark: N sources × M report pages, deterministic.

Each source is a site folder served on its own loopback address (127.0.0.(10+i), see
bench/nginx.py) with one listing column in a CMS style the crawler supports — TRS classic
(0-based `createPageHTML`), TRS 6-argument (1-based), Hanweb (every record in the page's
`<datastore>`), plain list (`list.aspx?page=N` pager with 下一页/尾页) — and M report pages
of 30–80 KiB with gov-portal chrome. Body text is recombined from the seed reports in
../shared/seeds; ~5 % of pages are in traditional script. Everything is UTF-8.
"""

from __future__ import annotations

import html
import random
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import opencc

from archive.classify import classify_title

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
PER_PAGE = 20
STYLES = ("trs", "trs6", "hanweb", "plain")
TRAD_SHARE = 0.05
_REGIONS = ("城东", "河西", "青山", "临江", "南湖", "北川", "西岭", "东港", "长宁", "平安",
            "新华", "永和", "兴隆", "清河", "石桥", "龙泉", "凤凰", "金山", "白云", "松江",
            "翠屏", "安定", "宝丰", "双流")
_KINDS = ("区", "县", "市", "新区", "高新区")
_DEPTS = ("人民政府", "司法局", "市场监督管理局", "生态环境局", "交通运输局", "教育局",
          "财政局", "卫生健康委员会", "城市管理局", "应急管理局", "人力资源和社会保障局",
          "税务局", "公安分局")
_TITLES = ("{r}{d}关于{y}年法治政府建设情况的报告",
           "{r}{d}关于{y}年度法治政府建设工作情况的报告",
           "{r}{d}{y}年法治政府建设年度报告", "{r}{d}{y}年度法治政府建设工作报告")
_HEADINGS = ("主要举措和成效", "存在的不足", "下一步工作安排", "依法全面履行政府职能",
             "党政主要负责人履行推进法治建设第一责任人职责情况", "严格规范公正文明执法")
_OPENING = ("{y}年，{r}坚持以习近平新时代中国特色社会主义思想为指导，深入学习贯彻习近平法治思想，"
            "全面推进依法行政，法治政府建设取得新成效。现将有关情况报告如下：")
_CHROME_WORDS = re.compile(r"当前的位置|索引号|主题分类|发布机构|成文日期|\||扫一扫|打印|分享")


@dataclass(slots=True)
class Site:
    """One source: its folder, listing style, loopback host and the pages it serves."""

    index: int
    name: str
    region: str
    style: str
    host: str
    column: str                                    # path of the column's first listing page
    listings: list[str] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)

    def url(self, path: str, port: int) -> str:
        return f"http://{self.host}:{port}{path}"


@dataclass(slots=True)
class Portal:
    root: Path
    sites: list[Site]
    report_bytes: int = 0
    traditional: int = 0

    @property
    def n_reports(self) -> int:
        return sum(len(s.reports) for s in self.sites)

    @property
    def n_listings(self) -> int:
        return sum(len(s.listings) for s in self.sites)

    def report_files(self) -> list[Path]:
        return [self.root / p.lstrip("/") for s in self.sites for p in s.reports]


@cache
def _s2t() -> opencc.OpenCC:
    """OpenCC's s2t converter (the C++ binding: fast enough to convert whole pages)."""
    return opencc.OpenCC("s2t")


_NUMBER = re.compile(r"(\d+)")
Sentence = tuple[tuple[str, ...], tuple[int, ...]]  # text pieces around numbers, number widths


@cache
def _sentences() -> tuple[Sentence, ...]:
    """Sentences of the seed reports' body paragraphs (simplified), chrome lines dropped."""
    t2s = opencc.OpenCC("t2s")
    out: list[str] = []
    for path in sorted(SEEDS.glob("*.txt")):
        for line in t2s.convert(path.read_text(encoding="utf-8")).splitlines():
            line = line.strip()
            if len(line) < 30 or _CHROME_WORDS.search(line):
                continue
            out.extend(s + "。" for s in line.split("。") if len(s) >= 12)
    split = (_NUMBER.split(s) for s in dict.fromkeys(out))
    return tuple((tuple(p[0::2]), tuple(len(n) for n in p[1::2])) for p in split)


def _vary(sentence: Sentence, rng: random.Random) -> str:
    """The sentence with every number changed, so that recombined texts differ."""
    pieces, widths = sentence
    if not widths:
        return pieces[0]
    out = [pieces[0]]
    for piece, width in zip(pieces[1:], widths, strict=True):
        # Four digits are usually a year: keep them plausible.
        out.append(str(2015 + int(rng.random() * 10)) if width == 4
                   else str(1 + int(rng.random() * 10 ** min(width, 3))))
        out.append(piece)
    return "".join(out)


_CN_NUM = "一二三四五六七八九十"


def body_paragraphs(rng: random.Random, region: str, year: int, chars: int) -> list[str]:
    """About `chars` characters of report prose: opening, numbered headings, new sentences."""
    pool = _sentences()
    paras = [_OPENING.format(y=year, r=region)]
    size, section = len(paras[0]), 0
    while size < chars:
        if section < len(_CN_NUM) and (section == 0 or rng.random() < 0.12):
            head = f"{_CN_NUM[section]}、{rng.choice(_HEADINGS)}"
            paras.append(head)
            section += 1
        para = "".join(_vary(rng.choice(pool), rng) for _ in range(rng.randint(2, 6)))
        paras.append(para)
        size += len(para)
    paras.append(f"{region}人民政府")
    paras.append(f"{year + 1}年3月{rng.randint(1, 28)}日")
    return paras


_MENU = ("政务公开", "政务服务", "互动交流", "专题专栏", "数据开放", "走进本区", "新闻中心",
         "政策文件")
_MENU_ITEMS = ("政府文件", "部门文件", "政策解读", "人事信息", "财政预决算", "规划计划", "统计信息",
               "应急管理", "重点领域", "建议提案", "政府会议", "领导信箱", "在线访谈", "征集调查",
               "办事指南", "便民服务", "热点专题", "图片新闻", "视频新闻", "公示公告")
_FRIENDS = ("国务院", "国家发展改革委", "教育部", "司法部", "财政部", "生态环境部", "交通运输部",
            "水利部", "农业农村部", "商务部", "文化和旅游部", "国家卫生健康委", "应急管理部",
            "审计署", "市场监管总局", "国家统计局", "国家医保局", "国家税务总局", "国家林草局")
_SCRIPT = """<script type="text/javascript">
var _hmt = _hmt || [];
(function() {
  var hm = document.createElement("script"); hm.src = "/analytics/hm.js?%(sid)s";
  var s = document.getElementsByTagName("script")[0]; s.parentNode.insertBefore(hm, s);
})();
function doZoom(size){ var el = document.getElementById("zoom") || document.body;
  el.style.fontSize = size + "px"; var ps = el.getElementsByTagName("p");
  for (var i = 0; i < ps.length; i++) { ps[i].style.fontSize = size + "px"; } }
function showDate(){ var d = new Date(), w = ["日","一","二","三","四","五","六"];
  var el = document.getElementById("headerDate"); if (!el) return;
  el.innerHTML = d.getFullYear() + "年" + (d.getMonth() + 1) + "月" + d.getDate()
    + "日 星期" + w[d.getDay()]; }
$(function(){ showDate();
  $(".menu li").hover(function(){ $(this).addClass("on").find(".sub").show(); },
  function(){ $(this).removeClass("on").find(".sub").hide(); });
  $("#friend select").change(function(){ if (this.value) window.open(this.value); });
  $(".tab-hd li").mouseover(function(){ var i = $(this).index();
    $(this).addClass("cur").siblings().removeClass("cur");
    $(this).parents(".tab").find(".tab-bd > div").eq(i).show().siblings().hide(); }); });
</script>
"""


@cache
def _site_chrome(index: int, name: str, region: str) -> tuple[str, str]:
    """(top, bottom) chrome shared by a site's pages: mega menu, inline script, link boxes."""
    rng = random.Random(index)
    menu = []
    for m, label in enumerate(_MENU):
        subs = rng.sample(_MENU_ITEMS, 14)
        links = "".join(f'<li><a href="/{name}/{label[:2]}/{k}/" target="_blank">{t}</a></li>'
                        for k, t in enumerate(subs))
        menu.append(f'<li class="m{m}"><a href="/{name}/#m{m}">{label}</a>'
                    f'<div class="sub"><ul>{links}</ul></div></li>\n')
    top = ('<div class="menu"><ul>\n<li><a href="/' + name + '/">首页</a></li>\n' + "".join(menu)
           + "</ul></div>\n" + _SCRIPT % {"sid": f"{index:08x}" * 4})
    regions = [r + k for r in _REGIONS for k in ("区", "县")][:36]
    friends = "".join(f'<option value="https://www.example.invalid/{n}">{t}</option>'
                      for n, t in enumerate(_FRIENDS + tuple(f"{r}人民政府" for r in regions)))
    tabs = "".join(
        f'<div class="box"><h3>{label}</h3><ul>'
        + "".join(f'<li><a href="/{name}/{b}/{k}.html">{t}</a><span>2024-0{1 + k % 9}-1{k % 9}'
                  "</span></li>" for k, t in enumerate(rng.sample(_MENU_ITEMS, 8)))
        + "</ul></div>\n" for b, label in enumerate(("通知公告", "政策解读", "办事服务")))
    bottom = (f'<div class="tabs">{tabs}</div>\n<div id="friend" class="friend-links">'
              f"<span>友情链接：</span><select><option>—— 国务院部门网站 ——</option>"
              f"{friends}</select>"
              f"<select><option>—— 区县政府网站 ——</option>{friends}</select></div>\n")
    return top, bottom


def _nav(site: Site) -> str:
    return _site_chrome(site.index, site.name, site.region)[0]


def _head(site: Site, title: str, extra_meta: str = "") -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="SiteName" content="{site.region}人民政府">\n'
        f'<meta name="SiteIDCode" content="{9900000000 + site.index:010d}">\n'
        f'<meta name="ColumnName" content="法治政府建设年度报告">\n{extra_meta}'
        f"<title>{html.escape(title)}_{site.region}人民政府</title>\n"
        '<link rel="stylesheet" href="/css/common.css">\n<style type="text/css">\n'
        "body{margin:0;font:14px/1.8 \"Microsoft YaHei\",SimSun,sans-serif;color:#333}\n"
        ".w1200{width:1200px;margin:0 auto}.topbar{background:#f5f5f5;height:32px}\n"
        ".nav ul li{float:left;list-style:none;margin:0 20px}\n"
        ".footer{background:#0b4a8b;color:#fff}\n"
        "</style>\n</head>\n<body>\n"
        '<div class="topbar"><div class="w1200">'
        f'<span class="welcome">欢迎访问{site.region}人民政府'
        '</span><span class="tools"><a href="javascript:void(0)">无障碍</a> '
        '<a href="javascript:void(0)">长者模式</a> <a href="javascript:void(0)">繁体</a></span>'
        f'</div></div>\n<div class="header"><div class="logo"><h2>{site.region}人民政府</h2></div>'
        '<div class="search"><form action="https://search.example.invalid/s" method="get">'
        '<input type="text" name="q" placeholder="请输入关键词"><button type="submit">搜索</button>'
        "</form></div></div>\n" + _nav(site)
    )


def _crumb(site: Site) -> str:
    col = f"/{site.name}/"
    return (f'<div class="crumb">您当前的位置：<a href="{col}">首页</a> &gt; '
            f'<a href="{col}">政务公开'
            f'</a> &gt; <a href="{site.column}">法治政府建设年度报告</a></div>\n')


def _footer(site: Site) -> str:
    return (
        _site_chrome(site.index, site.name, site.region)[1]
        + '<div class="footer"><div class="w1200">\n'
        f'<p><a href="/{site.name}/#sitemap">网站地图</a> | '
        f'<a href="/{site.name}/#contact">联系我们</a>'
        ' | <a href="https://www.gov.cn/" target="_blank">中国政府网</a></p>\n'
        f"<p>主办：{site.region}人民政府办公室　承办：{site.region}大数据发展局　"
        f"版权所有：{site.region}人民政府</p>\n"
        f"<p>地址：{site.region}人民路{site.index + 1}号　电话：023-6878{site.index:04d}</p>\n"
        f'<p><a href="https://beian.miit.gov.cn/">渝ICP备0500{site.index:04d}号-1</a>　'
        f"渝公网安备 5001070250{site.index:04d}号　网站标识码{9900000000 + site.index:010d}</p>\n"
        "</div></div>\n<script>$(function(){ $('#share-1').share(); });</script>\n"
        "</body>\n</html>\n"
    )


def report_html(site: Site, rng: random.Random, title: str, year: int, date: str, path: str,
                related: list[tuple[str, str]], target_bytes: int) -> str:
    """A report page with chrome, its body grown until the page reaches ~`target_bytes`."""
    meta = (f'<meta name="ArticleTitle" content="{html.escape(title)}">\n'
            f'<meta name="PubDate" content="{date} 09:30">\n'
            f'<meta name="ContentSource" content="{site.region}司法局">\n')
    index_no = f"11500107{site.index:04d}XM/{year + 1}-{rng.randint(10000, 99999)}"
    info = (
        '<table class="xxgk-table"><tr><th>索引号：</th><td>' + index_no
        + "</td><th>主题分类：</th>"
        "<td>其他</td></tr>\n<tr><th>发布机构：</th><td>" + site.region + "人民政府办公室</td>"
        "<th>成文日期：</th><td>" + date + "</td></tr>\n<tr><th>标题：</th><td colspan=\"3\">"
        + html.escape(title) + "</td></tr>\n<tr><th>发文字号：</th><td></td><th>发布日期：</th><td>"
        + date + "</td></tr></table>\n")
    rel = "".join(f'<li><a href="{u}" title="{html.escape(t)}">{html.escape(t[:18])}…</a></li>\n'
                  for u, t in related)
    top = (_head(site, title, meta) + '<div class="w1200">\n' + _crumb(site) + info
           + f'<div class="main">\n<h1 class="article-title">{html.escape(title)}</h1>\n'
           f'<div class="info"><span>日期：{date}</span><span>来源：{site.region}司法局</span>'
           '<span>浏览次数：<em id="visits">' + str(rng.randint(100, 9999)) + "</em></span></div>\n"
           '<div class="article-tools">【字体：<a href="javascript:doZoom(18)">大</a> '
           '<a href="javascript:doZoom(16)">中</a> <a href="javascript:doZoom(14)">小</a>】'
           '<a href="javascript:window.print()">【打印】</a><a href="javascript:window.close()">'
           '【关闭】</a><div class="share" id="share-1">分享到：<a href="#">微信</a> '
           '<a href="#">微博</a>'
           '</div></div>\n')
    open_body = ('<div id="zoom">\n' if site.style == "hanweb"
                 else '<div class="view TRS_UEDITOR"><div class="TRS_Editor">\n')
    close_body = "</div>\n" if site.style == "hanweb" else "</div></div>\n"
    bottom = (close_body + '<div class="prevnext"><p>上一篇：<a href="' + related[0][0] + '">'
              + html.escape(related[0][1]) + '</a></p></div>\n'
              '<div class="related"><h3>相关链接</h3><ul>\n' + rel + "</ul></div>\n</div>\n"
              '<div class="side"><h3>热点新闻</h3><ul>\n' + rel
              + "</ul></div>\n</div>\n" + _footer(site))
    chrome = len((top + open_body + bottom).encode("utf-8"))
    chars = max(2000, (target_bytes - chrome) // 3 - 200)
    body = "".join(f'<p style="text-indent: 2em;">{html.escape(p)}</p>\n'
                   for p in body_paragraphs(rng, site.region, year, chars))
    return top + open_body + body + bottom


def _listing_items(site: Site, entries: list[tuple[str, str, str]]) -> str:
    if site.style == "hanweb":
        records = "".join(
            f'<record><![CDATA[<li><a href="{u}" title="{html.escape(t)}" target="_blank">'
            f"{html.escape(t)}</a><span>{d}</span></li>]]></record>\n" for u, t, d in entries)
        return (f'<div id="7206{site.index:03d}">\n<script type="text/xml">\n<datastore>\n'
                f"<totalrecord>{len(entries)}</totalrecord>\n<recordset>\n{records}</recordset>\n"
                "</datastore>\n</script>\n<script src=\"/module/web/jpage/jpage.js\"></script>\n"
                f"<script>new jpage({{perpage: 15, totalRecord: {len(entries)}}}).init();</script>"
                "\n</div>\n")
    return '<ul class="list-cont">\n' + "".join(
        f'<li><a href="{u}" target="_blank" title="{html.escape(t)}">{html.escape(t[:24])}…</a>'
        f"<span>{d}</span></li>\n" for u, t, d in entries) + "</ul>\n"


def _pager(site: Site, page: int, count: int) -> str:
    """Page `page` (0-based) of `count`, in the site's CMS style."""
    if site.style == "trs":
        return (f'<div class="page"><script>createPageHTML({count}, {page}, "index", "html");'
                "</script></div>\n")
    if site.style == "trs6":
        return ('<div class="page" id="page_div"><script>createPageHTML(\'page_div\', '
                f"{count}, {page + 1}, 'index', 'html', {len(site.reports)});</script></div>\n")
    if site.style == "plain" and count > 1:
        def href(n: int) -> str:
            return "list.aspx" if n == 0 else f"list.aspx?page={n + 1}"
        nums = " ".join(f'<a href="{href(n)}">{n + 1}</a>' if n != page else f"<b>{n + 1}</b>"
                        for n in range(count))
        nxt = (f'<a href="{href(page + 1)}">下一页</a> <a href="{href(count - 1)}">尾页</a>'
               if page + 1 < count else "下一页 尾页")
        return (f'<div class="pager">共{len(site.reports)}条记录 第{page + 1}/{count}页 '
                f'<a href="{href(0)}">首页</a> {nums} {nxt}</div>\n')
    return ""


def _listing_files(site: Site, count: int) -> list[tuple[str, str]]:
    """(URL path, file path) of each listing page of the column."""
    base = site.column.rsplit("/", 1)[0]
    out = []
    for n in range(count):
        if site.style == "trs":
            name = "index.html" if n == 0 else f"index_{n}.html"
            out.append((f"{base}/{name}", f"{base}/{name}"))
        elif site.style == "trs6":
            name = "index.html" if n == 0 else f"index_{n + 1}.html"
            out.append((f"{base}/{name}", f"{base}/{name}"))
        elif site.style == "plain":
            url = site.column if n == 0 else f"{site.column}?page={n + 1}"
            out.append((url, site.column if n == 0 else f"{base}/list_{n + 1}.aspx"))
        else:
            out.append((site.column, site.column))
    return out


def _column(name: str, style: str, i: int) -> str:
    if style == "hanweb":
        return f"/{name}/col/col12293{i:05d}/index.html"
    if style == "plain":
        return f"/{name}/zwgk/fzzfjs/list.aspx"
    return f"/{name}/zwgk/fzzfjsndbg/index.html"


def _report_path(site: Site, k: int, year: int, month: int, day: int) -> str:
    doc = 10_000_000 + site.index * 100_000 + k
    if site.style == "hanweb":
        return f"/{site.name}/art/{year + 1}/{month}/{day}/art_12293{site.index:05d}_{doc}.html"
    ext = "htm" if site.style == "plain" else "html"
    base = site.column.rsplit("/", 1)[0]
    return f"{base}/{year + 1}{month:02d}/t{year + 1}{month:02d}{day:02d}_{doc}.{ext}"


def generate(root: Path, n_sources: int, per_source: int, seed: int = 2024,
             page_kib: int | None = None) -> Portal:
    """Write the portal under `root` (created) and return what it holds. Report pages are
    31–79 KiB, or all about `page_kib` KiB (the same titles, years and listings)."""
    if n_sources > 240:
        raise ValueError("at most 240 sources (one loopback address each)")
    rng = random.Random(seed)
    portal = Portal(root, [])
    root.mkdir(parents=True, exist_ok=True)
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n", encoding="utf-8")
    for i in range(n_sources):
        style = STYLES[i % len(STYLES)]
        name = f"bench-{i + 1:02d}"
        region = _REGIONS[i % len(_REGIONS)] + _KINDS[(i // len(_REGIONS)) % len(_KINDS)]
        if i >= len(_REGIONS) * len(_KINDS):
            region = f"{region}{i}"
        site = Site(i, name, region, style, f"127.0.0.{10 + i}", _column(name, style, i))
        portal.sites.append(site)
        entries: list[tuple[str, str, str]] = []   # (URL path, title, date), newest first
        plan = []
        for k in range(per_source):
            year = 2024 - (k * 17 // max(1, per_source)) - (k % 3)
            month, day = 3, 1 + (k * 7) % 28
            title = rng.choice(_TITLES).format(r=region, d=rng.choice(_DEPTS), y=year)
            verdict = classify_title(title)
            if not verdict.is_report:
                raise AssertionError(f"synthetic title not a report: {title} ({verdict.reason})")
            path = _report_path(site, k, year, month, day)
            plan.append((path, title, year, f"{year + 1}-{month:02d}-{day:02d}"))
        plan.sort(key=lambda p: p[3], reverse=True)
        entries = [(p, t, d) for p, t, _, d in plan]
        for n, (path, title, year, date) in enumerate(plan):
            related = [(entries[(n + j) % len(entries)][0], entries[(n + j) % len(entries)][1])
                       for j in range(1, 11)]
            size = rng.randint(31 * 1024, 79 * 1024)  # drawn either way: the same pages follow
            page = report_html(site, rng, title, year, date, path, related,
                               page_kib * 1024 if page_kib else size)
            if rng.random() < TRAD_SHARE:
                page = _s2t().convert(page)
                portal.traditional += 1
            data = page.encode("utf-8")
            portal.report_bytes += len(data)
            out = root / path.lstrip("/")
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
            site.reports.append(path)
        pages = [entries] if style == "hanweb" else [
            entries[j : j + PER_PAGE] for j in range(0, len(entries), PER_PAGE)]
        for n, (url_path, file_path) in enumerate(_listing_files(site, len(pages))):
            text = (_head(site, "法治政府建设年度报告") + '<div class="w1200">\n' + _crumb(site)
                    + '<div class="main">\n<div class="list-title">'
                    "<h2>法治政府建设年度报告</h2></div>\n" + _listing_items(site, pages[n])
                    + _pager(site, n, len(pages)) + "</div>\n</div>\n"
                    + _footer(site))
            out = root / file_path.lstrip("/")
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
            site.listings.append(url_path)
    return portal


def write_sources(portal: Portal, port: int, path: Path) -> None:
    """The crawl registry for the portal (README "Adding a source")."""
    lines = ["# Synthetic benchmark portal (bench/synth.py), each source on its own loopback host.",
             "sources:"]
    for s in portal.sites:
        cms = "hanweb" if s.style == "hanweb" else ("plain" if s.style == "plain" else "trs")
        lines += [f"  - name: {s.name}", f"    region: {s.region}", "    level: county",
                  f"    cms: {cms}", "    start_urls:", f"      - {s.url(s.column, port)}",
                  f"    hints: {{max_listing_pages: {max(30, len(s.listings) + 5)}}}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
