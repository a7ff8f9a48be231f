"""A government document's number (兰政办发〔2017〕145号): from its label, a line of its own
under the title, or brackets after the title."""

from __future__ import annotations

import re

from .han import HAN


def _year_and_number(opening: str, closing: str) -> str:
    """〔2017〕145号, the year in any of the brackets given (sites print all of them)."""
    return rf"[{opening}]\s*(?:19|20)\d{{2}}\s*[{closing}]\s*\d{{1,4}}\s*号"


_BRACKETED = _year_and_number(r"〔\[［【", r"〕\]］】")
# With the issuer's prefix, where parentheses may hold the year too (the number stands alone).
_PREFIXED = _year_and_number(r"〔\[［【(（", r"〕\]］】)）")
_DOC_NUMBER = re.compile(rf"[{HAN}]{{1,12}}\s*{_PREFIXED}")
_DOC_BARE = re.compile(_BRACKETED)
_DOC_IN_TITLE = re.compile(rf"[(（]\s*(?P<n>[{HAN}]{{1,12}}\s*{_BRACKETED})\s*[)）]\s*$")
_DOC_LABEL = re.compile(r"(?:文件编号|发文字号|文号)\s*[:：]\s*(?P<v>\S+)")


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
