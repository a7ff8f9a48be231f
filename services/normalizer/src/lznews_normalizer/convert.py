"""Traditional -> mainland simplified Chinese.

Measured on the seeds: OpenCC tw2sp rewrites mainland wording (建立→创建, 文件→文档,
智慧→智能) and still misses 智慧財産權 (産 is a variant), so we use tw2s (which, unlike t2s,
also turns the verb-suffix 著 into 着) plus a small curated dictionary of Taiwan terms,
applied only to pages that were traditional in the first place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .han import HAN_RE

# Share of Han characters that conversion changes above which a text counts as traditional.
HANT_RATIO = 0.04

# Taiwan / gateway-site terms -> mainland terms (applied after tw2s, on hant pages only).
TAIWAN_PHRASES: tuple[tuple[str, str], ...] = (
    ("智慧财产权", "知识产权"),
    ("智慧财产", "知识产权"),
    ("网际网路", "互联网"),
    ("网路", "网络"),
    ("资讯", "信息"),
    ("软体", "软件"),
    ("硬体", "硬件"),
    ("程式", "程序"),
    ("数位", "数字"),
    ("伺服器", "服务器"),
    ("品质", "质量"),
    ("专案", "项目"),
)
# 支援 is also mainland usage (支援灾区); only its Taiwan sense "support a company/fund" maps.
_SUPPORT = re.compile(r"(?<=资金)支援|支援(?=企业|产业|中小|创新|服务|发展)")
# tw2s over-converts a few mainland words; put them back.
_RESTORE: tuple[tuple[str, str], ...] = (("土着", "土著"),)


@dataclass(frozen=True)
class Converted:
    text: str
    original_script: str  # "hans" | "hant"
    changed_ratio: float


@lru_cache(maxsize=2)
def _converter(config: str = "tw2s"):  # noqa: ANN202 - opencc has no type stubs
    import opencc

    return opencc.OpenCC(config)


def _changed_ratio(before: str, after: str) -> float:
    han = len(HAN_RE.findall(before))
    if not han:
        return 0.0
    if len(before) != len(after):  # phrase conversion changed lengths: compare as multisets
        kept = set(after)  # a set: `c in after` per distinct character is quadratic
        changed = sum(1 for c in set(before) if HAN_RE.match(c) and c not in kept)
        return changed / han
    changed = sum(1 for a, b in zip(before, after, strict=True) if a != b)
    return changed / han


def detect_script(text: str) -> str:
    return convert(text).original_script


def apply_taiwan_terms(text: str) -> str:
    for src, dst in TAIWAN_PHRASES:
        if src in text:
            text = text.replace(src, dst)
    return _SUPPORT.sub("支持", text)


def convert(text: str, script: str | None = None) -> Converted:
    """Convert to mainland simplified; `script` skips detection (and forces the Taiwan step).

    Detection uses t2s, which leaves simplified text alone; tw2s is applied to traditional
    text only, because on simplified input it turns 显著 into 显着.
    """
    plain = _converter("t2s").convert(text)
    ratio = _changed_ratio(text, plain)
    original = script or ("hant" if ratio >= HANT_RATIO else "hans")
    if original == "hans":
        return Converted(plain, original, ratio)
    simplified = _converter("tw2s").convert(text)
    for src, dst in _RESTORE:
        if src in simplified and src not in text:
            simplified = simplified.replace(src, dst)
    return Converted(apply_taiwan_terms(simplified), original, ratio)


def to_simplified(text: str) -> str:
    """Plain character conversion with no script decision (for matching rules on short lines)."""
    return _converter("t2s").convert(text)
