"""Han character ranges, defined once for every rule that reads Chinese text."""

from __future__ import annotations

import re

# CJK Extension A, Unified Ideographs and Compatibility Ideographs: a regex class body, so rules
# can build classes such as [{HAN}·] from it.
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAN_RE = re.compile(f"[{HAN}]")
# The narrower range jieba treats as Han when it joins characters into word blocks: tagging
# rules must agree with jieba, not with HAN.
JIEBA_HAN_FIRST, JIEBA_HAN_LAST = "\u4e00", "\u9fd5"


def han_count(text: str) -> int:
    return len(HAN_RE.findall(text))


def is_jieba_han(c: str) -> bool:
    """`c` (one character, or the first of a word) is in jieba's Han range."""
    return JIEBA_HAN_FIRST <= c <= JIEBA_HAN_LAST
