"""Text repairs: control characters, pinyin annotations, GBK mojibake fragments, spacing.

Some sites run pages through a "pinyin helper" that writes 創(chuàng)新; when such a page is later
re-encoded badly, characters turn into '?' and the helper's parentheses get eaten
(日?qǐng)?bào)). The pinyin that survives is a hint we use to put the lost character back.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from .convert import to_simplified
from .han import HAN

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ"
_PY_CHARS = f"a-zA-Z{_TONED}{_TONED.upper()}ɑɡê"
_PY = f"[{_PY_CHARS}]+(?: [{_PY_CHARS}]+)*"
_LOST = "?？\ufffd"

# A complete annotation right after a Han character: 創(chuàng), 本刊(běnkān).
_ANNOTATION = re.compile(f"(?<=[{HAN}])[(（]({_PY})[)）]")
# Annotations next to a lost character, parentheses partly eaten: 日?qǐng)?bào)
_BROKEN = re.compile(
    f"(?<=[{HAN}])((?:[{_LOST}][(（]?{_PY}[)）]|[(（]{_PY}[)）](?=[{_LOST}]))+)"
)
_BROKEN_PIECE = re.compile(f"[{_LOST}]?[(（]?({_PY})[)）]")
# GBK text decoded one byte off: '?' + shifted characters + a stray ASCII trail byte,
# or ending in a lost character with its pinyin hint (?!秳?chuàng)).
_SHIFTED = re.compile(
    f"[{_LOST}](?P<frag>[!-/:-?{HAN}\u3000-\u303f\uff01-\uff5e]{{1,6}}?)"
    f"(?:(?P<trail>[@-~])(?=[{HAN}])|[{_LOST}](?P<hint>{_PY})[)）])"
)
_QUESTION_PARTICLES = set("吗呢么嘛吧啊")
_SUSPECT_Q = re.compile(f"(?<=[{HAN}])[?\ufffd](?=[{HAN}])")
_CJK_PUNCT = "\u3000-\u303f\uff01-\uff0f\uff1a-\uff1f\uff3b-\uff40\uff5b-\uff65\u2018-\u201f\u2026"
_SPACE_BEFORE_PUNCT = re.compile(
    f"(?<=[{HAN}{_CJK_PUNCT}]) +(?=[{_CJK_PUNCT}])|(?<=[{HAN}]) +(?=[,;:!](?![0-9]))"
)
# Not after closing quotes/brackets: titles use "“双轮驱动” 为城市" as a separator.
_SPACE_AFTER_PUNCT = re.compile(f"(?<=[。，、；：！？“‘《（【]) +(?=[{HAN}0-9])")
_PLAUSIBLE_PUNCT = set("。，、；：？！“”‘’《》（）【】—…·")
# Terminal escape sequences (CSI such as ESC[31m, OSC such as ESC]0;title BEL, two-byte ESC x),
# then single C0/C1 controls and DEL. Tab, LF, VT, FF and CR stay: they are layout whitespace that
# line splitting folds away. The quantified classes are disjoint and the OSC body is bounded, so
# matching is linear.
_CONTROLS = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]{0,256}(?:\x07|\x1b\\)|\x1b[@-Z\\^_]"
    r"|[\x00-\x08\x0e-\x1f\x7f-\x9f]"
)
_ANY_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # ESC (\x1b) included
# Lost characters guessed from pinyin or GBK realignment per page (or per text) at most: each
# guess tries dozens of candidates against the dictionary (about a millisecond), and a page
# made of nothing but broken fragments must not cost minutes. Real broken pages have tens.
MAX_RECOVERIES = 300


@dataclass
class RepairStats:
    pinyin_annotations: int = 0
    mojibake_fragments: int = 0
    mojibake_repaired: int = 0
    spacing_fixes: int = 0
    control_chars: int = 0  # control characters and escape sequences removed
    unrepaired: list[str] = field(default_factory=list)

    def add(self, other: RepairStats) -> None:
        self.pinyin_annotations += other.pinyin_annotations
        self.mojibake_fragments += other.mojibake_fragments
        self.mojibake_repaired += other.mojibake_repaired
        self.spacing_fixes += other.spacing_fixes
        self.control_chars += other.control_chars
        self.unrepaired.extend(other.unrepaired)


@dataclass
class Budget:
    """Expensive guesses left for one page (shared by all its lines)."""

    recoveries: int = MAX_RECOVERIES

    def spend(self) -> bool:
        if self.recoveries <= 0:
            return False
        self.recoveries -= 1
        return True


def strip_controls(text: str) -> tuple[str, int]:
    """Remove terminal escape sequences and C0/C1 control characters; returns (text, count).

    A page's ESC/BEL bytes (pasted terminal output, hostile markup) would otherwise reach the
    title, the body and every reader's terminal or feed."""
    if not _ANY_CONTROL.search(text):  # the usual case: one quick scan, no copy
        return text, 0
    count = 0

    def drop(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return ""

    return _CONTROLS.sub(drop, text), count


# --- lexicon: how plausible a word is; jieba's dictionary frequencies by default -------------

Lexicon = Callable[[str], int]


def default_lexicon(word: str) -> int:
    from .lexicon import word_frequency

    return word_frequency(to_simplified(word))


@lru_cache(maxsize=1)
def _pinyin_index() -> dict[str, list[str]]:
    """Tone-marked syllable -> characters with that reading (from pypinyin's table)."""
    from pypinyin.pinyin_dict import pinyin_dict

    index: dict[str, list[str]] = {}
    for cp, readings in pinyin_dict.items():
        for r in readings.split(","):
            index.setdefault(r, []).append(chr(cp))
    return index


@lru_cache(maxsize=1)
def _toneless_syllables() -> frozenset[str]:
    return frozenset(_strip_tones(s) for s in _pinyin_index())


def _strip_tones(s: str) -> str:
    s = s.replace("ü", "v").replace("Ü", "v")
    return "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))


def is_pinyin(content: str) -> bool:
    """True for pinyin like 'chuàng' or 'běnkān': letters carrying tone marks or ü.

    Toneless content ('AI', 'de') is never treated as pinyin here, so real parentheses
    holding Latin words survive.
    """
    content = content.strip()
    if not content or not re.fullmatch(_PY, content):
        return False
    return any(c in _TONED or c in _TONED.upper() for c in content)


def _segments_as_syllables(word: str) -> bool:
    """Can a toneless word be split into pinyin syllables (lanzhou -> lan zhou)?"""
    word = _strip_tones(word.lower())
    syl = _toneless_syllables()
    ok = [True] + [False] * len(word)
    for i in range(1, len(word) + 1):
        for j in range(max(0, i - 6), i):
            if ok[j] and word[j:i] in syl:
                ok[i] = True
                break
    return ok[-1]


def recover_char(prev: str, hint: str, nxt: str = "", lexicon: Lexicon | None = None,
                 gbk_lead: int | None = None) -> str | None:
    """Guess a lost character from its pinyin hint and its neighbours.

    Candidates are characters read `hint`; the winner makes the most frequent word with the
    previous or next character. With `gbk_lead`, only characters whose GBK code starts with
    that byte qualify (the byte survived, the trail byte did not).
    """
    lexicon = lexicon or default_lexicon
    cands = _pinyin_index().get(hint.lower()) or []
    best, best_score = None, 0
    for c in cands:
        if gbk_lead is not None:
            try:
                b = c.encode("gbk")
            except UnicodeEncodeError:
                continue
            if len(b) != 2 or b[0] != gbk_lead:
                continue
        score = 0
        for k in (3, 2, 1):  # longest left context that forms a word counts most
            if len(prev) >= k:
                f = lexicon(prev[-k:] + c)
                if f:
                    score = max(score, f * (k + 1))
        if nxt:
            score = max(score, lexicon(c + nxt[:1]))
        if gbk_lead is not None:
            score = max(score, 1 + lexicon(c))
        if score > best_score:
            best, best_score = c, score
    return best


def _plausible(s: str, lexicon: Lexicon) -> bool:
    return all(c in _PLAUSIBLE_PUNCT or lexicon(c) > 50 for c in s)


def _realign_gbk(frag: str, trail: str | None, hint: str | None, lexicon: Lexicon,
                 context: str) -> str | None:
    """Re-decode '?'+frag as GBK shifted by one byte; return the recovered text or None."""
    variants = [frag]
    # Fullwidth punctuation is often folded to ASCII afterwards (！ -> !): try both.
    if any("!" <= c <= "~" for c in frag):
        variants.append("".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in frag))
    best: tuple[int, str] | None = None
    for v in variants:
        try:
            body = v.encode("gbk")
        except UnicodeEncodeError:
            continue
        if trail:
            body += trail.encode("ascii")
        for lead in range(0x81, 0xFF):
            raw = bytes([lead]) + body
            dangling = None
            if hint:
                if len(raw) % 2 == 0:
                    continue
                dangling, raw = raw[-1], raw[:-1]
            elif len(raw) % 2:
                continue
            try:
                text = raw.decode("gbk")
            except UnicodeDecodeError:
                continue
            if any(ord(c) < 0x80 for c in text) or not _plausible(text, lexicon):
                continue
            if dangling is not None:
                assert hint is not None
                lost = recover_char(text, hint, context, lexicon, gbk_lead=dangling)
                if lost is None:
                    continue
                text += lost
            # A lost lead byte is almost always the CJK punctuation row (0xA1): 。“ 《
            score = 1 << 40 if text[0] in _PLAUSIBLE_PUNCT else lexicon(text[0])
            if best is None or score > best[0]:
                best = (score, text)
    return best[1] if best else None


def remove_pinyin(text: str, stats: RepairStats, lexicon: Lexicon | None = None,
                  budget: Budget | None = None) -> str:
    lexicon = lexicon or default_lexicon
    budget = budget or Budget()

    def shifted(m: re.Match[str]) -> str:
        if not budget.spend():
            return m.group(0)
        fixed = _realign_gbk(m.group("frag"), m.group("trail"), m.group("hint"), lexicon,
                             text[m.end(): m.end() + 1])
        if fixed is None:
            return m.group(0)
        stats.mojibake_fragments += 1
        stats.mojibake_repaired += 1
        if m.group("hint"):
            stats.pinyin_annotations += 1
        return fixed

    if any(c in text for c in _LOST):
        text = _SHIFTED.sub(shifted, text)

    def broken(m: re.Match[str]) -> str:
        hints = _BROKEN_PIECE.findall(m.group(1))
        if not all(is_pinyin(h) for h in hints):
            return m.group(0)
        stats.pinyin_annotations += len(hints)
        stats.mojibake_fragments += 1
        start = m.start()
        prev = text[max(0, start - 3): start]
        lost = (recover_char(prev, hints[-1], text[m.end(): m.end() + 1], lexicon)
                if budget.spend() else None)
        if lost:
            stats.mojibake_repaired += 1
            return lost
        stats.unrepaired.append(text[max(0, start - 4): m.end() + 4])
        return ""

    if any(c in text for c in _LOST):
        text = _BROKEN.sub(broken, text)

    def annotation(m: re.Match[str]) -> str:
        content = m.group(1)
        if is_pinyin(content) or (stats.pinyin_annotations >= 2 and content.islower()
                                  and _segments_as_syllables(content)):
            stats.pinyin_annotations += 1
            return ""
        return m.group(0)

    if "(" in text or "（" in text:
        text = _ANNOTATION.sub(annotation, text)
    return text


def fix_spacing(text: str, stats: RepairStats) -> str:
    new = _SPACE_BEFORE_PUNCT.sub("", text)
    new = _SPACE_AFTER_PUNCT.sub("", new)
    if new != text:
        stats.spacing_fixes += 1
    return new


def flag_mojibake(text: str, stats: RepairStats) -> None:
    """Count '?' between Han characters that no rule could repair (not a question mark)."""
    for m in _SUSPECT_Q.finditer(text):
        if text[m.start() - 1] not in _QUESTION_PARTICLES:
            stats.mojibake_fragments += 1
            stats.unrepaired.append(text[max(0, m.start() - 4): m.end() + 4])


def repair_text(text: str, lexicon: Lexicon | None = None,
                budget: Budget | None = None) -> tuple[str, RepairStats]:
    """Apply every repair to one line or paragraph; returns the text and what changed."""
    stats = RepairStats()
    text, stats.control_chars = strip_controls(text)
    text = remove_pinyin(text, stats, lexicon, budget)
    flag_mojibake(text, stats)
    text = fix_spacing(text, stats)
    return text, stats


def repair_lines(lines: list[str], lexicon: Lexicon | None = None) -> tuple[list[str], RepairStats]:
    total = RepairStats()
    budget = Budget()  # one page's worth of guesses for all its lines
    out = []
    for line in lines:
        fixed, st = repair_text(line, lexicon, budget)
        total.add(st)
        out.append(fixed)
    return out, total
