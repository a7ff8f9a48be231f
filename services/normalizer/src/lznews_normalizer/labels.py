"""Labelled header fields and credits: the name, reporter, editor and source patterns that both
the boilerplate rules (which move such lines out of the body) and the metadata rules (which
read them) use, defined once so the two always agree on what a credit line is."""

from __future__ import annotations

import re

from .han import HAN

# A personal name: two to four Han characters (· joins transliterated names).
NAME = rf"[{HAN}·]{{2,4}}"
NAMES = rf"{NAME}(?:[\s、,，;；]+{NAME})*"

REPORTER_ROLES = ("记者", "通讯员", "文/图", "文图", "撰稿", "实习生")
EDITOR_ROLES = ("责任编辑", "责编", "编辑")
# Reviewers are credited on editor lines of government sites but are not the story's editors.
REVIEWER_ROLES = ("审核", "校对", "审校", "终审", "初审", "复审", "编审")


def _credit_line(roles: tuple[str, ...]) -> re.Pattern[str]:
    # `(?:\s*[:：])?\s*`, not `\s*[:：]?\s*`: two adjacent \s* backtrack quadratically.
    return re.compile(
        rf"^[□■◎●▲\s]*(?:[{HAN}]{{0,14}}?)(?:{'|'.join(roles)})"
        rf"(?:\s*[:：])?\s*(?P<names>{NAMES})\s*$"
    )


# A whole line crediting reporters ('本报记者 张三 李四'): its names are the authors.
REPORTER_LINE = _credit_line(REPORTER_ROLES)
# The same with photographers: a credit line to move out of the body, though not an author's.
CREDIT_LINE = _credit_line((*REPORTER_ROLES, "摄影"))
# Editors named anywhere in a header line ('来源：兰州日报 责任编辑：李四').
EDITOR_CREDIT = re.compile(
    rf"(?:{'|'.join(EDITOR_ROLES)})(?:\s*[:：])?\s*(?P<names>{NAMES})\s*(?=$|[)）\]】|｜\s])"
)
# A whole line crediting editors or reviewers, bracketed or not: '（责任编辑：李四）'.
EDITOR_LINE = re.compile(
    rf"^[(（\[【]?\s*(?:{'|'.join(EDITOR_ROLES + REVIEWER_ROLES)})(?:\s*[:：])?\s*"
    rf"(?P<names>{NAMES})\s*[)）\]】]?$"
)
SOURCE_LABEL = r"(?:文章|信息|稿件)?来源\s*[:：]"
SOURCE_LINE = re.compile(rf"^{SOURCE_LABEL}")

# A label whose value sits on the next line of the page (网络编辑: / 瓦特).
_LABEL_ALONE = re.compile(
    r"(?:编辑|责编|作者|记者|发布时间|发布日期|生成日期|成文日期|发文日期)(?:\s*[:：])?\s*$"
)


def joined_labels(lines: list[str]) -> list[str]:
    """Lines, with a label that ends its line joined to the next line (its value)."""
    out = []
    for i, line in enumerate(lines):
        # The label ends the line: its last characters are all the rule needs to read.
        if i + 1 < len(lines) and _LABEL_ALONE.search(line[-24:]):
            line = f"{line} {lines[i + 1]}"
        out.append(line)
    return out
