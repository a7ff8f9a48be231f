"""Who wrote and edited a story: reporters from bylines, datelines and credits in the body,
editors from 责任编辑 lines."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .han import HAN
from .labels import EDITOR_CREDIT, NAME, REPORTER_LINE, joined_labels

# 作者：南方周末记者 雍兴中 姜世离 南方周末实习生 朱亮韬 — outlets and roles between the names.
_BYLINE = re.compile(rf"(?:^|\s)(?:作者|记者)\s*[:：]\s*(?P<names>[{HAN}·\s、,，;；/]{{2,60}})")
# A credit inside the body: （记者 张淼淼）, (香港文汇报 记者 颜晋杰 文森), 记者邓厚仁报道.
# The names start with a non-space: the \s* before them already took the spaces (three
# overlapping whitespace quantifiers made '（记者' + 1,000 spaces take a minute).
_CREDIT = re.compile(
    rf"[(（]\s*(?:[{HAN}]{{1,12}}\s*)?(?:记者|通讯员)(?:\s*[:：])?\s*"
    rf"(?P<names>[{HAN}·、,，][{HAN}·\s、,，]{{1,29}}?)\s*[)）]|记者\s*(?P<names2>{NAME})\s*报道"
)
# Labels a byline's names run into on the same line.
_LABEL_WORDS = re.compile(r"(?:责任编辑|网络编辑|责编|编辑|来源|时间|发布).*$")
_DATELINE = re.compile(
    rf"^[{HAN}]{{2,14}}?\d{{1,2}}月\d{{1,2}}日(?:电|讯|消息)\s*[(（]\s*(?P<inner>[^)）]{{2,40}})[)）]"
    rf"|^(?:本报讯|本网讯|讯)\s*[(（]\s*(?P<inner2>[^)）]{{2,40}})[)）]"
)
_ROLE_WORD = re.compile(r"(?:编辑|编审|管理员)$")  # 助理编辑, 管理员: roles, not names
_NOT_NAMES = {"记者", "编辑", "责编", "通讯员", "本报", "实习生", "摄影", "报道"}


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


def find_authors(info_lines: list[str], page_lines: list[str], body: list[str]) -> list[str]:
    names: list[str] = []
    for line in joined_labels(info_lines + page_lines):
        if len(line) > 80:
            continue
        m = REPORTER_LINE.match(line) if len(line) <= 40 else None
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
    for line in joined_labels(lines):
        if len(line) > 90:
            continue
        for m in EDITOR_CREDIT.finditer(line):
            names.extend(split_names(m.group("names")))
    return _dedup(names)
