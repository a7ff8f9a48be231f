from __future__ import annotations

import pytest

from lznews_normalizer.convert import convert, detect_script


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("獲得自主智慧財産權130項", "获得自主知识产权130项"),  # 産 is a variant of 產
        ("獲得自主智慧財產權130項", "获得自主知识产权130项"),
        ("版權所有 中國網際網路新聞中心", "版权所有 中国互联网新闻中心"),
        ("涉及新醫藥及生物工程、電子資訊、新材料", "涉及新医药及生物工程、电子信息、新材料"),
        ("網路傳播視聽節目", "网络传播视听节目"),
        ("“服務”是支援企業發展的“助推器”", "“服务”是支持企业发展的“助推器”"),
        ("賦權加大資金支援。", "赋权加大资金支持。"),
        ("著眼“五區”定位要求,著力探索", "着眼“五区”定位要求,着力探索"),
    ],
)
def test_taiwan_terms_become_mainland(src: str, expected: str) -> None:
    out = convert(src, script="hant")
    assert out.text == expected


@pytest.mark.parametrize(
    "mainland",
    ["建立了面向重大需求的机制", "政策和文件", "贡献科技的智慧和力量", "支援灾区", "显著 著名 著作",
     "兰州市科技局支持科技项目1556项"],
)
def test_mainland_wording_untouched(mainland: str) -> None:
    out = convert(mainland)
    assert out.text == mainland and out.original_script == "hans"


def test_traditional_mainland_words_not_localised() -> None:
    # tw2sp would give 创建 / 文档 / 智能; we keep mainland wording.
    out = convert("建立了面向重大需求的科技項目凝練支撐機制;一系列政策和文件;科技的智慧和力量")
    assert "建立" in out.text and "文件" in out.text and "智慧和力量" in out.text


def test_script_detection() -> None:
    assert detect_script("蘭州市科技局堅持科技創新和制度創新雙輪驅動") == "hant"
    assert detect_script("兰州市科技局坚持科技创新和制度创新双轮驱动") == "hans"
    assert detect_script("2025-04-10 09:06:31") == "hans"
