"""The headline: from <h1>, article <meta> and title-classed elements checked against <title>,
with the site's name cut from <title>s and meta titles."""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import islice

from lxml import html

from .han import HAN, HAN_RE, han_count
from .parse import meta_content

# Bounds on page text that a rule reads. A longer string cannot be what the rule looks for, and
# some rules (site-suffix stripping, \W+$) backtrack quadratically in the length of what they
# are given: a <title> of 30,000 dashes took 20 s.
MAX_TITLE_CHARS = 300  # headlines, <title>s with site names and og:titles are under 200
MAX_CANDIDATES = 20  # headings / meta titles / title-classed elements read, each

_SITE_WORDS = re.compile(
    r"网|频道|政府|新闻|客户端|日报|晚报|中国|人民|新华|门户|官网|Network"
    r"|[局厅委办署]$|委员会$|办公室$",  # '标题_北京监管局': the publishing office
    re.I,
)
_EDITION = re.compile(r"\s+第[A-Z]?\d{1,3}版\s*[:：].*$")  # 标题 第A1版:要闻 20140318期 国际日报
_SUFFIX = re.compile(r"\s*(?:--|—+|–|_|-|\||｜)\s*(?P<seg>[^_|｜—–]{1,24}?)\s*$")
_PREFIX = re.compile(rf"^\s*(?P<seg>[{HAN}A-Za-z]{{1,12}}(?:客户端|网|频道|APP))\s*[|｜]\s*")


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
    return len(bare) <= 24 and bool(_SITE_NAME.search(bare) or not HAN_RE.search(bare))


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
                   first(map(_bounded, meta_content(root, ("ArticleTitle", "og:title"))))]
    candidates += [_short_text(el) for el in
                   first(root.xpath('//*[contains(@class, "title") and not(self::title)]'))]
    cands = [c for c in map(fix, filter(None, candidates))
             if han_count(c) >= 4]
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
            if han_count(cand) >= 6:
                return cand
    return page_title or None
