from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lznews_normalizer.repair import is_pinyin, recover_char, repair_text

REAL_PARENS = [
    "人民網蘭州5月22日電(王文嘉)5月21日",
    "出臺了《創新蘭州2025年行動方案》(以下簡稱《方案》)",
    "《蘭州市落實強省會戰略進一步優化營商環境若干措施(第6號)》",
    "中國創新挑戰賽(甘肅)",
    "網易(蘭州)聯合創新中心",
    "(責任單位:市科技局)",
    "萬人R&D人員數(每一萬人中研發人員數)達到125人",
    "創業投資(風險)投資基金",
    "特色分(支)行",
    "1100多個人才(團隊)開展",
    "技術經紀(理)人總量",
    "人工智能(AI)大模型(LLM)",
]


@pytest.mark.parametrize("text", REAL_PARENS)
def test_real_parentheses_survive(text: str) -> None:
    fixed, stats = repair_text(text)
    assert fixed == text and stats.pinyin_annotations == 0


@pytest.mark.parametrize(
    ("text", "expected", "count"),
    [
        ("科技、制度創(chuàng)新“雙輪驅(qū)動”", "科技、制度創新“雙輪驅動”", 2),
        ("本刊(běnkān)訊", "本刊訊", 1),
        ("人民網(wǎng)-甘肅頻道", "人民網-甘肅頻道", 1),
        ("綠(lǜ)色", "綠色", 1),
        ("技術經紀(jì)(理)人", "技術經紀(理)人", 1),
    ],
)
def test_pinyin_annotations_removed(text: str, expected: str, count: int) -> None:
    fixed, stats = repair_text(text)
    assert fixed == expected and stats.pinyin_annotations == count


def test_lost_character_recovered_from_pinyin_hint() -> None:
    fixed, stats = repair_text("來源: 蘭州日?qǐng)?bào)")
    assert fixed in ("來源: 蘭州日報", "來源: 蘭州日报")
    assert stats.mojibake_fragments == 1 and stats.mojibake_repaired == 1
    assert "?" not in fixed and "qǐng" not in fixed


def test_gbk_shifted_fragment_realigned() -> None:
    # Seed 001: "。“蘭" as GBK bytes read one byte out of place -> "?!疤m".
    fixed, stats = repair_text("示范基地”?!疤m州高新區(qū)生物醫藥產業")
    assert fixed == "示范基地”。“蘭州高新區生物醫藥產業"
    assert stats.mojibake_repaired == 1


def test_gbk_shifted_fragment_with_lost_trail_byte() -> None:
    # Seed 003: "。《創" shifted, the trail byte of 創 lost; the pinyin hint chuàng restores it.
    fixed, _ = repair_text("關鍵一步?!秳?chuàng)新蘭州2025年")
    assert fixed == "關鍵一步。《創新蘭州2025年"


def test_unrecoverable_question_mark_is_flagged_not_invented() -> None:
    fixed, stats = repair_text("兰州市?秳推进")
    assert stats.mojibake_fragments >= 1 and fixed == "兰州市?秳推进"


def test_real_question_mark_not_flagged() -> None:
    _, stats = repair_text("这是真的吗?是")
    assert stats.mojibake_fragments == 0


def test_spacing_around_chinese_punctuation() -> None:
    assert repair_text("项目开工 。下一步 ， 推进")[0] == "项目开工。下一步，推进"
    # Spaces between words and after closing quotes are kept (title separators, names).
    assert repair_text("苏燕平 李凯")[0] == "苏燕平 李凯"
    assert repair_text("“双轮驱动” 为城市")[0] == "“双轮驱动” 为城市"


def test_recover_char_prefers_word_forming_candidate() -> None:
    assert recover_char("蘭州日", "bào") in ("報", "报")


def test_is_pinyin() -> None:
    assert is_pinyin("chuàng") and is_pinyin("běnkān") and is_pinyin("lǜ")
    assert not is_pinyin("AI") and not is_pinyin("王文嘉") and not is_pinyin("6")


HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
NON_PINYIN = st.one_of(
    st.text(HAN, min_size=1, max_size=8),
    st.from_regex(r"第[0-9]{1,3}号", fullmatch=True),
    st.from_regex(r"[A-Z][A-Za-z]{0,6}", fullmatch=True),  # toneless Latin (AI, LLM, Lanzhou)
    st.from_regex(r"[0-9]{1,4}", fullmatch=True),
)


@settings(max_examples=150, deadline=None)
@given(prefix=st.text(HAN, min_size=1, max_size=6), inner=NON_PINYIN,
       suffix=st.text(HAN, max_size=6), full=st.booleans())
def test_property_real_parentheses_always_survive(prefix: str, inner: str, suffix: str,
                                                  full: bool) -> None:
    text = f"{prefix}{'（' if full else '('}{inner}{'）' if full else ')'}{suffix}"
    fixed, stats = repair_text(text)
    assert fixed == text
    assert stats.pinyin_annotations == 0


SYLLABLES = ["chuàng", "xīn", "bào", "wǎng", "lán", "zhōu", "shì", "lǜ", "běn", "kān"]


@settings(max_examples=150, deadline=None)
@given(chars=st.lists(st.tuples(HAN, st.sampled_from(SYLLABLES)), min_size=1, max_size=10))
def test_property_annotations_always_removed(chars: list[tuple[str, str]]) -> None:
    annotated = "".join(f"{c}({py})" for c, py in chars)
    fixed, stats = repair_text(annotated)
    assert fixed == "".join(c for c, _ in chars)
    assert stats.pinyin_annotations == len(chars)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_property_random_text_never_crashes(text: str) -> None:
    fixed, stats = repair_text(text)
    assert isinstance(fixed, str)
    assert stats.pinyin_annotations >= 0


MOJI_ALPHABET = st.sampled_from(list("?？\ufffd()（）!疤秳m蘭州創新日報 ǎàbcqǐng") + ["(bào)"])


@settings(max_examples=300, deadline=None)
@given(st.lists(MOJI_ALPHABET, max_size=40).map("".join))
def test_property_mojibake_shaped_text_never_crashes(text: str) -> None:
    fixed, _ = repair_text(text)
    assert isinstance(fixed, str)
