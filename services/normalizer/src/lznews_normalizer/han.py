"""Han character ranges, defined once for every rule that reads Chinese text."""

from __future__ import annotations

import re

# CJK Extension A, Unified Ideographs and Compatibility Ideographs: a regex class body, so rules
# can build classes such as [{HAN}·] from it.
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAN_RE = re.compile(f"[{HAN}]")


def han_count(text: str) -> int:
    return len(HAN_RE.findall(text))
