"""Where a story comes from: the 来源 line, a source <meta>, or the outlet named beside the date
under the headline or at the opening of the body."""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import html

from .han import HAN
from .labels import SOURCE_LABEL
from .parse import meta_content

_SOURCE = re.compile(
    rf"{SOURCE_LABEL}\s*(?P<src>[^\s|｜【\[]+(?:\s+(?=[(（])[^\s|｜【\[]+)?)"
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


def find_source(info_lines: list[str], page_lines: list[str],
                root: html.HtmlElement | None = None,
                fix: Callable[[str], str] = str, header: list[str] | None = None,
                body: list[str] | None = None) -> str | None:
    for line in info_lines + [ln for ln in page_lines if len(ln) <= 90]:
        m = _SOURCE.search(line)
        if m:
            return _NEXT_FIELD.sub("", m.group("src")).strip("。.,，")
    for content in meta_content(root, ("source", "ContentSource")):
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
