from __future__ import annotations

from lznews_normalizer.convert import convert
from lznews_normalizer.dedup import (
    SimhashIndex,
    content_hash,
    hamming,
    is_near_duplicate,
    simhash,
    simhash_hex,
)

STORY = ("人民网兰州5月22日电(王文嘉)5月21日,2020年兰州市科技工作会议召开。\n"
         "据悉,近年来,兰州市科技局坚持科技创新和制度创新“双轮驱动”,以问题为导向,"
         "以需求为牵引,持续深化科技体制机制改革。\n"
         "据王柠介绍,2016年以来,兰州市科技局支持科技项目1556项,开发新产品574件、"
         "推广新技术1211项、新增销售收入47.15亿元。")
OTHER = ("新华网兰州4月3日电(苏燕平 李凯)记者从兰州新区管委会获悉,今年兰州新区计划实施"
         "重点产业项目126个,总投资1200亿元,其中续建项目58个、新建项目68个。")


def test_content_hash_ignores_layout_only() -> None:
    assert content_hash(STORY) == content_hash(STORY.replace("\n", "\n\n  "))
    assert content_hash(STORY) != content_hash(STORY + "补充。")
    assert len(content_hash(STORY)) == 64


def test_traditional_and_simplified_versions_are_near_duplicates() -> None:
    trad = "人民網蘭州5月22日電(王文嘉)5月21日,2020年蘭州市科技工作會議召開。\n" \
           "據悉,近年來,蘭州市科技局堅持科技創新和制度創新“雙輪驅動”,以問題為導向," \
           "以需求為牽引,持續深化科技體制機制改革。\n" \
           "據王檸介紹,2016年以來,蘭州市科技局支持科技項目1556項,開發新產品574件、" \
           "推廣新技術1211項、新增銷售收入47.15億元。"
    assert hamming(simhash(convert(trad).text), simhash(STORY)) <= 3


def test_other_footer_is_near_duplicate_other_story_is_not() -> None:
    a, b = simhash(STORY), simhash(STORY + "\n(责编:李四)")
    assert is_near_duplicate(a, b)
    assert not is_near_duplicate(a, simhash(OTHER))


def test_index_over_a_plain_dict() -> None:
    store: dict[str, list[str]] = {}
    index = SimhashIndex(store)
    index.add("a", simhash(STORY))
    index.add("b", simhash(OTHER))
    hits = index.query(simhash(STORY + "\n(责编:李四)"))
    assert [doc for doc, _ in hits] == ["a"]
    assert index.query(simhash("完全不同的一段文字,讲的是另外一回事。" * 5)) == []
    index.add("a", simhash(STORY))  # re-adding replaces, no duplicates
    assert all(sum(e.startswith("a:") for e in bucket) <= 1 for bucket in store.values())


def test_simhash_hex_is_16_chars() -> None:
    assert len(simhash_hex(simhash(STORY))) == 16 and simhash("") == 0
