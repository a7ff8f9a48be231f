"""Golden tests: the five seed pages (plus the extra fixtures) end to end."""

from __future__ import annotations

import pytest

from lznews_normalizer.dedup import hamming
from lznews_normalizer.errors import NotAnArticle
from lznews_normalizer.pipeline import normalize

from .normalizer_helpers import fixture_raw

SEED_FILES = ["000_people_gansu.html", "001_lzbs.html", "002_china_com_cn_big5.html",
              "003_lzbs.html", "004_lanzhou_gov.html"]

# Every boilerplate, pinyin, mojibake and spam fragment the seeds hold (in both scripts).
MUST_NOT_APPEAR = [
    "(chuàng)", "(wǎng)", "qǐng", "bào", "?", "？", "疤m", "秳",
    "首页|", "首頁|", "您的位置", "您现在的位置", "網站首頁", "网站首页", "正文",
    "智能朗读", "智能朗讀", "关闭", "關閉", "打印本页", "关闭窗口", "分享到",
    "推荐阅读", "推薦閱讀", "相关阅读", "相關閱讀", "稻城县", "铜川市", "鄂托克旗", "绥阳县",
    "版权所有", "版權所有", "版权声明", "版權聲明", "未经许可", "ICP", "公网安备", "公網安備",
    "许可证", "主办:", "承办:", "运行管理", "技术支持", "Produced By", "大汉网络",
    "国内精品", "人妻", "无码", "婷婷", "五月天", "在线观看",
    "责任编辑", "責任編輯", "责编", "全媒体记者", "□", "来源:", "來源:",
    "索引号", "文件编号", "生成日期", "公开方式", "手机兰州新闻网", "手機蘭州新聞網",
]


@pytest.mark.parametrize("name", SEED_FILES)
def test_no_boilerplate_pinyin_or_spam_left(article, name: str) -> None:
    body = article(name)["body"]
    left = [frag for frag in MUST_NOT_APPEAR if frag in body]
    assert not left, f"{name} body still holds {left}"
    assert "\n\n" not in body and not body.startswith(" ")


@pytest.mark.parametrize("name", SEED_FILES)
def test_output_is_simplified(article, name: str) -> None:
    a = article(name)
    for field in ("title", "body"):
        for trad in "蘭質發書區網報圍創學業產權資訊軟著":
            if trad == "著":  # 显著/著名 are mainland words too
                continue
            assert trad not in a[field], (name, field, trad)


def test_000_people_gansu(article) -> None:
    a = article("000_people_gansu.html")
    assert a["title"] == "科技、制度创新“双轮驱动” 为城市高质量发展贡献力量"
    assert a["published_at"] == "2020-05-22T08:40:00+08:00"
    assert a["source"] == "人民网-甘肃频道"
    assert a["authors"] == ["王文嘉"]
    assert a["editors"] == ["周婉婷", "焦隆"]
    assert a["doc_number"] is None
    assert a["original_script"] == "hant"
    assert a["body"].startswith("人民网兰州5月22日电(王文嘉)5月21日,2020年兰州市科技工作会议召开。")
    assert "兰州市科技局党组书记、局长王柠表示" in a["body"]
    e = a["entities"]
    assert {"王柠", "王文嘉"} <= set(e["people"])
    assert {"兰州市科技局", "甘肃省科技厅"} <= set(e["organizations"])
    assert "兰州市" in e["places"] and "稻城县" not in e["places"]
    assert "兰州市促进高校院所成果转移转化的实施方案" in e["policy_documents"]
    assert {"text": "47.15亿元", "value_cny": 4715000000} in e["amounts"]
    assert {"text": "3.367亿元", "value_cny": 336700000} in e["amounts"]
    assert {"text": "1600万元", "value_cny": 16000000} in e["amounts"]
    q = a["quality"]
    assert q["pinyin_annotations"] > 100 and q["boilerplate_lines"] >= 2
    assert len(a["simhash"]) == 16 and len(a["content_hash"]) == 64


def test_001_lzbs(article) -> None:
    a = article("001_lzbs.html")
    assert a["title"] == "提升创新主干 补齐产业发展短板 我市全力推动兰白两区高质量发展"
    assert a["published_at"] == "2023-02-14T00:00:00+08:00"  # from the URL: the page has none
    assert a["authors"] == ["华静"] and a["editors"] == ["王旭伟"]
    # The GBK-shifted fragment "?!疤m州" is re-aligned to "。“兰州".
    assert "示范基地”。“兰州高新区生物医药产业入选国家创新型产业集群名单”" in a["body"]
    assert a["quality"]["mojibake_repaired"] >= 1 and a["quality"]["spam_blocks"] >= 1
    assert "强化顶层设计" in a["body"].split("\n")  # short subheadings stay
    e = a["entities"]
    assert "兰州市落实强省会战略进一步优化营商环境若干措施(第6号)" in e["policy_documents"]
    assert {"text": "8573.9万元", "value_cny": 85739000} in e["amounts"]
    assert {"text": "2000万元", "value_cny": 20000000} in e["amounts"]
    assert {"text": "1亿元", "value_cny": 100000000} in e["amounts"]
    assert {"兰州新区", "兰州高新区", "兰州经济区"} <= set(e["places"])
    assert "华静" in e["people"]


def test_002_china_com_cn_big5(article) -> None:
    a = article("002_china_com_cn_big5.html")
    assert a["title"] == "驱动创新引擎 释放活力之源"
    assert a["published_at"] == "2021-03-16T13:13:48+08:00"
    assert a["source"] == "兰州日报"
    assert a["editors"] == ["牛志鑫"] and a["authors"] == []
    assert a["original_script"] == "hant"
    body = a["body"]
    assert "获得自主知识产权130项" in body and "智慧财产" not in body and "産" not in body
    assert "电子信息" in body and "资讯" not in body
    assert "支持企业发展" in body
    assert a["quality"]["ncr_resolved"] >= 1
    e = a["entities"]
    assert "科技成果转化平台方案" in e["policy_documents"] and "方案" not in e["policy_documents"]
    assert {"text": "2.68亿元", "value_cny": 268000000} in e["amounts"]
    assert "兰州高新区" in e["places"]


def test_003_lzbs(article) -> None:
    a = article("003_lzbs.html")
    assert a["title"] == ("强化“新四军”创新优势 锻造“强引擎”加速发展 "
                          "兰州市以科技创新驱动城市竞争力跃升")
    assert a["published_at"] == "2025-04-10T09:06:31+08:00"
    assert a["source"] == "兰州日报"  # "蘭州日?qǐng)?bào)" recovered
    assert a["authors"] == ["华静"] and a["editors"] == ["王旭伟"]
    body = a["body"]
    assert "关键一步。《创新兰州2025年暨科技成果转化突破年行动方案》" in body
    assert "技术经纪(理)人总量突破900人" in body
    assert "(以下简称《方案》)" in body
    assert a["quality"]["spam_blocks"] == 1 and a["quality"]["pinyin_annotations"] > 200
    e = a["entities"]
    assert e["policy_documents"] == ["创新兰州2025年暨科技成果转化突破年行动方案"]
    assert {"text": "135亿元", "value_cny": 13500000000} in e["amounts"]
    assert "城关区" in e["places"] and "兰州大学" in e["organizations"]
    names = e["organizations"] + e["places"] + e["people"]
    assert not {"婷婷", "五月天", "国内精品", "手机兰州新闻网"} & set(names)


def test_004_lanzhou_gov(article) -> None:
    a = article("004_lanzhou_gov.html")
    assert a["title"] == ("兰州市人民政府办公厅关于认真贯彻落实省委书记林铎同志调研兰州"
                          "科技创新工作讲话精神的通知")
    assert a["published_at"] == "2017-06-07T00:00:00+08:00"  # 生成日期
    assert a["doc_number"] == "兰政办发〔2017〕145号"
    assert a["original_script"] == "hans"
    lines = a["body"].split("\n")
    assert lines[0] == "各县、区人民政府,市政府各部门,各有关单位,兰州新区、高新区、经济区管委会:"
    assert lines[-2:] == ["兰州市人民政府办公厅", "2017519"]
    assert "(支)行" in a["body"] and "(团队)" in a["body"]
    e = a["entities"]
    assert "林铎" in e["people"]
    assert {"市科技局", "市发改委", "兰州市人民政府办公厅"} <= set(e["organizations"])
    assert {"兰州新区", "兰州高新区", "兰州经济区"} <= set(e["places"])
    assert {"text": "70亿元", "value_cny": 7000000000} in e["amounts"]
    assert "兰州市科技创新创业容错免责办法(试行)" in e["policy_documents"]


def test_005_reprint_is_near_duplicate_of_000(article) -> None:
    trad, simp = article("000_people_gansu.html"), article("005_lanzhou_gov_reprint_of_000.html")
    assert simp["original_script"] == "hans" and trad["original_script"] == "hant"
    assert trad["id"] != simp["id"]
    assert hamming(int(trad["simhash"], 16), int(simp["simhash"], 16)) <= 3
    assert simp["published_at"] == "2020-05-22T10:15:00+08:00"
    assert simp["source"] == "人民网-甘肃频道" and simp["editors"] == ["周婉婷", "焦隆"]


def test_006_xinhua_dateline_and_title_prefix(article) -> None:
    a = article("006_xinhua_gansu.html")
    assert a["title"] == "兰州新区今年计划实施重点产业项目126个"
    assert a["authors"] == ["苏燕平", "李凯"] and a["editors"] == ["赵静"]
    assert a["published_at"] == "2024-04-03T00:00:00+08:00"  # /20240403/ in the URL
    assert a["source"] == "新华网"
    assert "兰州新区管委会" in a["entities"]["organizations"]


def test_007_listing_is_not_an_article() -> None:
    with pytest.raises(NotAnArticle) as exc:
        normalize(fixture_raw("007_lzbs_listing.html"))
    assert exc.value.stage == "extract" and "listing" in exc.value.reason


def test_008_two_digit_year_and_detected_gbk(article) -> None:
    a = article("008_lanzhou_gov_short_year_gbk.html")
    assert a["published_at"] == "2021-02-07T09:07:00+08:00"
    assert a["source"] == "榆中县人民政府"
    assert a["title"] == "榆中县召开2021年科技创新工作会议"
    assert "张建华" in a["entities"]["people"]
    assert "字体" not in a["body"] and "打印本页" not in a["body"]


def test_article_matches_contract(article) -> None:
    keys = {"schema", "id", "url", "canonical_url", "site", "title", "published_at", "source",
            "authors", "editors", "doc_number", "body", "original_script", "fetched_at",
            "normalized_at", "pipeline_version", "entities", "quality", "content_hash", "simhash"}
    for name in SEED_FILES:
        a = article(name)
        assert set(a) == keys
        assert set(a["entities"]) == {"organizations", "places", "people", "policy_documents",
                                      "amounts"}
        assert all(isinstance(v, int) for v in a["quality"].values())
        assert all(isinstance(x["value_cny"], int) for x in a["entities"]["amounts"])
