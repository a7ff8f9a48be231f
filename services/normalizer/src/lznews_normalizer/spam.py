"""Spam injected into article pages (gambling and porn link lists), told by lexicon density."""

from __future__ import annotations

import re

from .han import han_count

# Strong terms almost never occur in local news; weak ones do (精品旅游, 国产大飞机) and only
# count together with strong ones.
SPAM_STRONG = (
    "无码", "人妻", "久久", "婷婷", "五月天", "在线观看", "亚欧", "日韩", "中文字幕", "伦理片",
    "三级片", "色情", "成人视频", "偷拍", "乱伦", "少妇", "熟女", "巨乳", "丝袜", "午夜",
    "一区二区",
    "二区", "av在线", "博彩", "娱乐城", "百家乐", "赌场", "六合彩", "时时彩", "葡京", "老虎机",
    "代孕", "办证", "开发票", "黄色网站", "视频在线",
)
SPAM_WEAK = ("av", "精品", "国产", "免费", "高清", "福利", "欧美", "棋牌", "影院", "自拍", "视频")
_SPAM_RE = re.compile(
    "|".join(sorted(map(re.escape, SPAM_STRONG + SPAM_WEAK), key=len, reverse=True)), re.I
)
_SPAM_STRONG = set(SPAM_STRONG)


def is_spam(line: str) -> bool:
    """Spam by lexicon density: several strong hits covering much of the line's text."""
    hits = _SPAM_RE.findall(line)
    strong = sum(1 for h in hits if h.lower() in _SPAM_STRONG)
    if strong < 2 or len(hits) < 3:
        return False
    han = han_count(line) or 1
    covered = sum(len(h) for h in hits)
    segments = [s for s in re.split(r"[,，、。|｜\s;；]+", line) if s]
    spammy = sum(1 for s in segments if _SPAM_RE.search(s))
    return covered / han >= 0.3 or (len(segments) >= 3 and spammy / len(segments) >= 0.6)


def strip_spam_segments(line: str) -> tuple[str, bool]:
    """Cut a run of spam segments appended to an otherwise normal line."""
    keep = re.split(r"(?<=[,，、。;；])", line)
    tail: list[str] = []
    while keep and _SPAM_RE.search(keep[-1]):
        tail.append(keep.pop())
    tail.reverse()  # appended from the end: popping into the front would be quadratic
    if len(tail) >= 2 and is_spam("".join(tail)):
        return "".join(keep).rstrip(",， "), True
    return line, False
