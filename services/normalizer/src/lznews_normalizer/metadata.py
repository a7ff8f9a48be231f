"""Title, publication time, source, authors, editors and document number.

Our own rules first: generic date guessers (htmldate) pick wrong dates on these templates
(2020-01-01 for seed 000). All inputs are expected repaired and simplified.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from itertools import islice
from urllib.parse import urlsplit

from lxml import html

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CST = timezone(timedelta(hours=8))

# Bounds on page text that a rule reads. A longer string cannot be what the rule looks for, and
# some rules (site-suffix stripping, \W+$) backtrack quadratically in the length of what they
# are given: a <title> of 30,000 dashes took 20 s.
MAX_TITLE_CHARS = 300  # headlines, <title>s with site names and og:titles are under 200
MAX_META_CHARS = 1_000  # a <meta> date, source or title value
MAX_SIGNER_CHARS = 60  # an issuing body's name on its own line (joint issuers included)
MAX_CANDIDATES = 20  # headings / meta titles / title-classed elements read, each

# No two unbounded `\s*` may touch (`\s*[:：]?\s*`, `\s*日?(?:\s*...`): on a run of spaces
# they backtrack quadratically. Each optional part carries its own leading `\s*` instead.
_DATE = (
    r"(?<![\d.])(?P<y>(?:19|20)\d{2}|\d{2})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*"
    r"(?P<d>\d{1,2})(?!\d)(?:\s*日)?"
    r"(?:\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{2})(?:\s*[:：分]\s*(?P<S>\d{2}))?)?"
)
DATE_RE = re.compile(_DATE)
# Overseas Chinese sites date in English: 'Sunday, March 16th, 2014'.
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
EN_DATE_RE = re.compile(
    r"\b(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(?P<d>\d{1,2})"
    r"(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d{2})\b",
    re.I,
)
_PUBLISH_LABEL = re.compile(
    rf"(?:发布时间|发布日期|发稿时间|发表时间|更新时间|生成日期|Date|时间|日期)(?:\s*[:：])?\s*{_DATE}",
    re.I,
)
_WRITTEN_LABEL = re.compile(rf"(?:成文日期|发文日期|印发日期)(?:\s*[:：])?\s*{_DATE}")
_COMPACT_DATE = re.compile(r"^(?P<y>(?:19|20)\d{2})(?P<md>\d{2,4})$")
# Two Han characters before the suffix suffice for a search (`{2,}` says the same but tries
# every start against the whole Han run after it: quadratic on a long run).
_SIGNER = re.compile(
    rf"[{HAN}]{{2}}(?:办公厅|办公室|人民政府|委员会|政府|局|厅|委|办|院|部|中心)$"
)
_URL_DATES = (
    re.compile(r"/(?P<y>(?:19|20)\d{2})-(?P<m>\d{1,2})/(?P<d>\d{1,2})/"),  # /2024-11/20/
    re.compile(r"/(?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})/"),  # /20260113/
    re.compile(r"/(?P<y>(?:19|20)\d{2})/(?P<m>\d{2})(?P<d>\d{2})/"),  # /2019/0326/
    re.compile(r"/(?P<y>(?:19|20)\d{2})/(?P<m>\d{1,2})/(?P<d>\d{1,2})/"),  # /2017/6/7/
    re.compile(r"[/_-](?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})[_-]"),
)
_META_DATE_NAMES = ("publishdate", "pubdate", "article:published_time", "datepublished",
                    "og:release_date", "publish_date", "firstpublishedtime", "created")

_NAME = rf"[{HAN}·]{{2,4}}"
_NAMES = rf"{_NAME}(?:[\s、,，;；]+{_NAME})*"
_SOURCE = re.compile(
    r"(?:文章|信息|稿件)?来源\s*[:：]\s*"
    r"(?P<src>[^\s|｜【\[]+(?:\s+(?=[(（])[^\s|｜【\[]+)?)"
)
# A field label glued to the value before it: 南沙区发改局发布日期：2017-10-13.
_NEXT_FIELD = re.compile(
    r"(?:发布日期|发布时间|发表时间|更新时间|时间|日期|作者|编辑|责编|浏览|点击|字号)[:：].*$"
)
_DATE_ANY = re.compile(
    r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?"
)
_OUTLET = re.compile(rf"(?<![{HAN}])[{HAN}]{{2,10}}(?:网|报|社|电视台|广播电台|客户端)(?![{HAN}])")
_OUTLET_OPENING = re.compile(rf"^\s*【([{HAN}]{{2,10}}(?:网|报|社|电视台|客户端))】")
_REPORTER = re.compile(
    rf"^[□■◎●▲\s]*(?:[{HAN}]{{0,14}}?)(?:记者|通讯员|文/图|文图|撰稿|实习生)"
    rf"(?:\s*[:：])?\s*(?P<names>{_NAMES})\s*$"
)
# 作者：南方周末记者 雍兴中 姜世离 南方周末实习生 朱亮韬 — outlets and roles between the names.
_BYLINE = re.compile(rf"(?:^|\s)(?:作者|记者)\s*[:：]\s*(?P<names>[{HAN}·\s、,，;；/]{{2,60}})")
# A credit inside the body: （记者 张淼淼）, (香港文汇报 记者 颜晋杰 文森), 记者邓厚仁报道.
# The names start with a non-space: the \s* before them already took the spaces (three
# overlapping whitespace quantifiers made '（记者' + 1,000 spaces take a minute).
_CREDIT = re.compile(
    rf"[(（]\s*(?:[{HAN}]{{1,12}}\s*)?(?:记者|通讯员)(?:\s*[:：])?\s*"
    rf"(?P<names>[{HAN}·、,，][{HAN}·\s、,，]{{1,29}}?)\s*[)）]|记者\s*(?P<names2>{_NAME})\s*报道"
)
# A label whose names sit on the next line of the page (网络编辑: / 瓦特).
_LABEL_ALONE = re.compile(
    r"(?:编辑|责编|作者|记者|发布时间|发布日期|生成日期|成文日期|发文日期)(?:\s*[:：])?\s*$"
)
_LABEL_WORDS = re.compile(r"(?:责任编辑|网络编辑|责编|编辑|来源|时间|发布).*$")
_DATELINE = re.compile(
    rf"^[{HAN}]{{2,14}}?\d{{1,2}}月\d{{1,2}}日(?:电|讯|消息)\s*[(（]\s*(?P<inner>[^)）]{{2,40}})[)）]"
    rf"|^(?:本报讯|本网讯|讯)\s*[(（]\s*(?P<inner2>[^)）]{{2,40}})[)）]"
)
_EDITOR = re.compile(
    rf"(?:责任编辑|责编|编辑)(?:\s*[:：])?\s*(?P<names>{_NAMES})\s*(?=$|[)）\]】|｜\s])"
)
_DOC_NUMBER = re.compile(
    rf"[{HAN}]{{1,12}}\s*[〔\[［【(（]\s*(?:19|20)\d{{2}}\s*[〕\]］】)）]\s*\d{{1,4}}\s*号"
)
_DOC_BARE = re.compile(r"[〔\[［【]\s*(?:19|20)\d{2}\s*[〕\]］】]\s*\d{1,4}\s*号")
_DOC_IN_TITLE = re.compile(
    rf"[(（]\s*(?P<n>[{HAN}]{{1,12}}\s*[〔\[［【]\s*(?:19|20)\d{{2}}\s*[〕\]］】]\s*\d{{1,4}}\s*号)"
    rf"\s*[)）]\s*$"
)
_DOC_LABEL = re.compile(r"(?:文件编号|发文字号|文号)\s*[:：]\s*(?P<v>\S+)")
_SITE_WORDS = re.compile(
    r"网|频道|政府|新闻|客户端|日报|晚报|中国|人民|新华|门户|官网|Network"
    r"|[局厅委办署]$|委员会$|办公室$",  # '标题_北京监管局': the publishing office
    re.I,
)
_EDITION = re.compile(r"\s+第[A-Z]?\d{1,3}版\s*[:：].*$")  # 标题 第A1版:要闻 20140318期 国际日报
_SUFFIX = re.compile(r"\s*(?:--|—+|–|_|-|\||｜)\s*(?P<seg>[^_|｜—–]{1,24}?)\s*$")
_PREFIX = re.compile(rf"^\s*(?P<seg>[{HAN}A-Za-z]{{1,12}}(?:客户端|网|频道|APP))\s*[|｜]\s*")
_ROLE_WORD = re.compile(r"(?:编辑|编审|管理员)$")  # 助理编辑, 管理员: roles, not names
_NOT_NAMES = {"记者", "编辑", "责编", "通讯员", "本报", "实习生", "摄影", "报道"}


@dataclass
class Metadata:
    title: str | None = None
    published_at: str | None = None
    source: str | None = None
    authors: list[str] = field(default_factory=list)
    editors: list[str] = field(default_factory=list)
    doc_number: str | None = None


# --- dates -------------------------------------------------------------------------------------


def _mk(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0,
        latest: date | None = None) -> datetime | None:
    if y < 100:
        y += 2000
    latest = latest or (datetime.now(CST).date() + timedelta(days=2))
    try:
        dt = datetime(y, m, d, hh, mm, ss, tzinfo=CST)
    except ValueError:
        return None
    if dt.year < 1990 or dt.date() > latest:
        return None
    return dt


def _from_match(m: re.Match[str], latest: date | None = None) -> datetime | None:
    g = m.groupdict()
    return _mk(int(g["y"]), int(g["m"]), int(g["d"]), int(g.get("H") or 0),
               int(g.get("M") or 0), int(g.get("S") or 0), latest)


def parse_date(text: str, latest: date | None = None) -> datetime | None:
    """First valid date (optionally with time) in `text`, as Beijing time."""
    for m in DATE_RE.finditer(text):
        dt = _from_match(m, latest)
        if dt:
            return dt
    for m in EN_DATE_RE.finditer(text):
        month = _MONTHS.index(m.group("mon").lower()) + 1
        if dt := _mk(int(m.group("y")), month, int(m.group("d")), latest=latest):
            return dt
    return None


def parse_compact_date(text: str, latest: date | None = None) -> datetime | None:
    """'2017519' (a notice's closing date with 年月日 lost) -> 2017-05-19, when unambiguous."""
    m = _COMPACT_DATE.match(text.strip())
    if not m:
        return None
    y, md = int(m.group("y")), m.group("md")
    splits = [(md[:i], md[i:]) for i in range(1, len(md)) if len(md[:i]) <= 2 and len(md[i:]) <= 2]
    found = {dt for a, b in splits if (dt := _mk(y, int(a), int(b), latest=latest))}
    return found.pop() if len(found) == 1 else None


def rfc3339(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def date_from_url(url: str, latest: date | None = None) -> datetime | None:
    path = urlsplit(url).path
    for pat in _URL_DATES:
        m = pat.search(path)
        if m:
            dt = _mk(int(m["y"]), int(m["m"]), int(m["d"]), latest=latest)
            if dt:
                return dt
    return None


def _meta_content(root: html.HtmlElement | None, names: Iterable[str]) -> list[str]:
    if root is None:
        return []
    wanted = {n.lower() for n in names}
    out = []
    for el in root.iter("meta"):
        key = (el.get("name") or el.get("property") or el.get("itemprop") or "").lower()
        content = (el.get("content") or "").strip()
        if key in wanted and content and len(content) <= MAX_META_CHARS:
            out.append(content)
    return out


def closing_date(lines: list[str], latest: date | None = None) -> datetime | None:
    """The date under the issuing body's name that closes a government notice."""
    for i in range(len(lines) - 1, 0, -1):
        line, signer = lines[i].strip(), lines[i - 1].strip()
        # Lengths first: the regex need not read a paragraph to learn it is no signature.
        if len(line) > 20 or len(signer) > MAX_SIGNER_CHARS or not _SIGNER.search(signer):
            continue
        dt = parse_compact_date(line, latest)
        if dt is None:
            m = DATE_RE.fullmatch(line)
            dt = _from_match(m, latest) if m else None
        if dt:
            return dt
    return None


def under_title(page_lines: list[str], title: str | None, n: int = 4) -> list[str]:
    """The few short page lines right under the headline, where an unlabelled date and outlet
    sit ('2014年03月07日10:07 新华网 我有话说')."""
    if not title:
        return []
    key = re.sub(r"\s+", "", title)
    for i, line in enumerate(page_lines):
        if re.sub(r"\s+", "", line) == key:
            return [ln for ln in page_lines[i + 1: i + 1 + n] if len(ln) <= 60]
    return []


def published_at(page_lines: list[str], info_lines: list[str], url: str,
                 root: html.HtmlElement | None = None,
                 latest: date | None = None, title: str | None = None) -> datetime | None:
    """Publication time, most trustworthy evidence first."""
    for line in _joined_labels(info_lines + page_lines):
        for m in _PUBLISH_LABEL.finditer(line):
            if dt := _from_match(m, latest):
                return dt
    meta = None
    for content in _meta_content(root, _META_DATE_NAMES):
        if meta := parse_date(content, latest):
            break
    # Unlabelled header lines like "2020年05月22日08:40 来源:..." (carry the time of day).
    for line in info_lines + under_title(page_lines, title):
        if dt := parse_date(line, latest):
            if meta is None or dt.date() == meta.date():
                return dt
    if meta:
        return meta
    for line in page_lines:
        for m in _WRITTEN_LABEL.finditer(line):
            if dt := _from_match(m, latest):
                return dt
    if dt := closing_date(page_lines, latest):
        return dt
    return date_from_url(url, latest)


# --- title ---------------------------------------------------------------------------------------


def strip_site_affixes(title: str) -> str:
    """'标题--甘肃频道--人民网' -> '标题'; '新华社客户端 | 标题' -> '标题'.

    Titles over MAX_TITLE_CHARS are returned as they are (the affix rules are quadratic in the
    length, and no headline is that long)."""
    if len(title) > MAX_TITLE_CHARS:
        return title
    title = _EDITION.sub("", title.strip())
    for _ in range(4):
        m = _SUFFIX.search(title)
        if not m or not _SITE_WORDS.search(m.group("seg")) or m.start() < 4:
            break
        title = title[: m.start()].strip()
    m = _PREFIX.match(title)
    if m and len(title) - m.end() >= 4:
        title = title[m.end():]
    return title.strip()


def _short_text(el: html.HtmlElement) -> str:
    """An element's text if it can be a headline, else "" (read no further than that)."""
    parts, size = [], 0
    for part in el.itertext():
        size += len(part)
        if size > 4 * MAX_TITLE_CHARS:  # leaves room for whitespace that collapses
            return ""
        parts.append(part)
    text = re.sub(r"\s+", " ", "".join(parts)).strip()
    return text if len(text) <= MAX_TITLE_CHARS else ""


def _bounded(title: str) -> str:
    title = title.strip()
    return title if len(title) <= MAX_TITLE_CHARS else ""


# A <title> that names the site, not the story (中国-印尼经贸合作网, 法拍屋查询系统, … DAILY NEWS).
_SITE_NAME = re.compile(r"(?:网|网站|门户|系统|平台|频道|官网|news|network)$", re.I)


def _site_name_like(title: str) -> bool:
    bare = re.sub(r"^\W+|\W+$", "", title)  # ':: BERNAMA MANDARIN ::'
    return len(bare) <= 24 and bool(_SITE_NAME.search(bare) or not re.search(f"[{HAN}]", bare))


def extract_title(root: html.HtmlElement | None, fix: Callable[[str], str] = str) -> str | None:
    """Title from <h1>, article meta and title-classed elements checked against <title>, else
    cleaned <title>. A <title> that only names the site checks nothing: then a candidate that
    another one contains (og:title 'Site(Headline)' and a heading 'Headline') wins."""
    if root is None:
        return None
    # A "title" longer than MAX_TITLE_CHARS is no title (30,000 dashes, a page in a heading).
    raw_title = _bounded(root.findtext(".//title") or "")
    page_title = fix(strip_site_affixes(fix(raw_title))) if raw_title else ""
    squeeze = lambda s: re.sub(r"\s+", "", s)  # noqa: E731
    first = lambda items: islice(items, MAX_CANDIDATES)  # noqa: E731
    candidates = [_short_text(el) for el in first(root.iter("h1"))]
    # Meta titles often repeat the <title>'s site suffix: cut it like the <title>'s.
    candidates += [strip_site_affixes(fix(m)) for m in
                   first(map(_bounded, _meta_content(root, ("ArticleTitle", "og:title"))))]
    candidates += [_short_text(el) for el in
                   first(root.xpath('//*[contains(@class, "title") and not(self::title)]'))]
    cands = [c for c in map(fix, filter(None, candidates))
             if len(re.findall(f"[{HAN}]", c)) >= 4]
    if page_title and not _site_name_like(page_title):
        for cand in cands:
            c, t = squeeze(cand), squeeze(page_title)
            # A fragment of the <title> (its site part, 北京监管局) is no headline.
            if (c in t and 2 * len(c) >= len(t)) or t in c:
                return cand
        return page_title
    agreed = [c for c in cands if any(c != o and squeeze(c) in squeeze(o) for o in cands)]
    if agreed or cands:
        return (agreed or cands)[0]
    for tag in ("h2", "h3"):
        for el in first(root.iter(tag)):
            cand = fix(_short_text(el))
            if len(re.findall(f"[{HAN}]", cand)) >= 6:
                return cand
    return page_title or None


# --- people and numbers ------------------------------------------------------------------------


def split_names(s: str) -> list[str]:
    # Roles, with the outlet or desk written before them (南方周末记者, 香港文汇报记者).
    s = re.sub(rf"[{HAN}]*?(?:见习|实习)?(?:记者|通讯员|摄影|实习生)", " ", s)
    out = []
    for n in re.split(r"[\s、,，;；/]+", s):
        n = n.strip("()（）[]【】 ")
        if (2 <= len(n) <= 4 and re.fullmatch(f"[{HAN}·]+", n) and n not in _NOT_NAMES
                and not _ROLE_WORD.search(n)):
            out.append(n)
    return out


def _dedup(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def _joined_labels(lines: list[str]) -> list[str]:
    """Lines, with a label that ends its line joined to the next line (its value)."""
    out = []
    for i, line in enumerate(lines):
        # The label ends the line: its last characters are all the rule needs to read.
        if i + 1 < len(lines) and _LABEL_ALONE.search(line[-24:]):
            line = f"{line} {lines[i + 1]}"
        out.append(line)
    return out


def find_authors(info_lines: list[str], page_lines: list[str], body: list[str]) -> list[str]:
    names: list[str] = []
    for line in _joined_labels(info_lines + page_lines):
        if len(line) > 80:
            continue
        m = _REPORTER.match(line) if len(line) <= 40 else None
        m = m or _BYLINE.search(line)
        if m:
            names.extend(split_names(_LABEL_WORDS.sub("", m.group("names"))))
    for line in body[:3]:
        m = _DATELINE.match(line)
        if m:
            names.extend(split_names(m.group("inner") or m.group("inner2") or ""))
    for line in body[:3] + body[-5:]:  # reporters credited at the start or the end
        for m in _CREDIT.finditer(line):
            names.extend(split_names(m.group("names") or m.group("names2") or ""))
    return _dedup(names)


def find_editors(lines: list[str]) -> list[str]:
    names: list[str] = []
    for line in _joined_labels(lines):
        if len(line) > 90:
            continue
        for m in _EDITOR.finditer(line):
            names.extend(split_names(m.group("names")))
    return _dedup(names)


def find_source(info_lines: list[str], page_lines: list[str],
                root: html.HtmlElement | None = None,
                fix: Callable[[str], str] = str, header: list[str] | None = None,
                body: list[str] | None = None) -> str | None:
    for line in info_lines + [ln for ln in page_lines if len(ln) <= 90]:
        m = _SOURCE.search(line)
        if m:
            return _NEXT_FIELD.sub("", m.group("src")).strip("。.,，")
    for content in _meta_content(root, ("source", "ContentSource")):
        m = _SOURCE.search(fix(content))
        value = m.group("src") if m else fix(content).split()[0] if content.split() else ""
        if value:
            return value
    for line in header or []:  # an outlet named beside the date under the headline
        if _DATE_ANY.search(line) and (m := _OUTLET.search(_DATE_ANY.sub(" ", line))):
            return m.group(0)
    for line in (body or [])[:2]:  # 【环球时报】 美国《华尔街日报》13日报道
        if m := _OUTLET_OPENING.match(line):
            return m.group(1)
    return None


def normalize_doc_number(s: str) -> str:
    s = re.sub(r"\s+", "", s)
    s = re.sub(r"[\[［【(（](\d{4})[\]］】)）]", r"〔\1〕", s)
    return s


def find_doc_number(page_lines: list[str], body: list[str],
                    title: str | None = None) -> str | None:
    for line in page_lines:
        m = _DOC_LABEL.search(line)
        if m:
            d = _DOC_NUMBER.search(m.group("v")) or _DOC_NUMBER.search(line[m.start():])
            if d:
                return normalize_doc_number(d.group(0))
    # A notice prints its number on a line of its own under the title (with or without the
    # issuer's prefix), or in brackets after the title: 关于…的通知（银发〔2013〕289号）.
    for line in body[:3] + page_lines:
        if len(line) <= 30:
            d = _DOC_NUMBER.fullmatch(line.strip()) or _DOC_BARE.fullmatch(line.strip())
            if d:
                return normalize_doc_number(d.group(0))
    if title and (d := _DOC_IN_TITLE.search(title)):
        return normalize_doc_number(d.group("n"))
    return None


def extract_metadata(root: html.HtmlElement | None, page_lines: list[str],
                     info_lines: list[str], body: list[str], url: str,
                     fix: Callable[[str], str] = str, latest: date | None = None) -> Metadata:
    """All metadata; `fix` repairs and simplifies strings read straight from the tree."""
    header = info_lines + page_lines
    title = extract_title(root, fix)
    return Metadata(
        title=title,
        published_at=rfc3339(published_at(page_lines, info_lines, url, root, latest, title)),
        source=find_source(info_lines, page_lines, root, fix, under_title(page_lines, title),
                           body),
        authors=find_authors(info_lines, page_lines, body),
        editors=find_editors(header),
        doc_number=find_doc_number(page_lines, body, title),
    )
