from __future__ import annotations

from datetime import date

import pytest

from lznews_normalizer.bylines import find_authors, find_editors
from lznews_normalizer.dates import (
    closing_date,
    date_from_url,
    parse_compact_date,
    parse_date,
    published_at,
    rfc3339,
)
from lznews_normalizer.doc_numbers import find_doc_number
from lznews_normalizer.sources import find_source
from lznews_normalizer.titles import strip_site_affixes

LATEST = date(2026, 1, 31)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020年05月22日08:40  来源:人民网-甘肃频道", "2020-05-22T08:40:00+08:00"),
        ("发布时间:2021-03-16 13:13:48 | 来源:兰州日报", "2021-03-16T13:13:48+08:00"),
        ("发布时间：21-02-07 09:07", "2021-02-07T09:07:00+08:00"),
        ("Date:2020/09/19", "2020-09-19T00:00:00+08:00"),
        ("生成日期: 2017-06-07 体裁分类:", "2017-06-07T00:00:00+08:00"),
        ("成文日期：2017年5月19日", "2017-05-19T00:00:00+08:00"),
        ("2025-04-10 09:06:31 智能朗读:", "2025-04-10T09:06:31+08:00"),
    ],
)
def test_date_formats(text: str, expected: str) -> None:
    assert rfc3339(parse_date(text, LATEST)) == expected


def test_invalid_and_future_dates_rejected() -> None:
    assert parse_date("2020-13-45", LATEST) is None
    assert parse_date("2099-01-01", LATEST) is None
    assert parse_date("电话: 86-10-88828000", LATEST) is None


def test_compact_closing_date() -> None:
    assert rfc3339(parse_compact_date("2017519", LATEST)) == "2017-05-19T00:00:00+08:00"
    assert rfc3339(parse_compact_date("20171112", LATEST)) == "2017-11-12T00:00:00+08:00"
    assert parse_compact_date("2017111", LATEST) is None  # 1/11 or 11/1: ambiguous


def test_notice_closing_date() -> None:
    lines = ["(责任单位:市科技局)", "兰州市人民政府办公厅", "2017519", "打印本页 关闭窗口"]
    assert rfc3339(closing_date(lines, LATEST)) == "2017-05-19T00:00:00+08:00"
    lines2 = ["……", "兰州市人民政府办公厅", "2017年5月19日"]
    assert rfc3339(closing_date(lines2, LATEST)) == "2017-05-19T00:00:00+08:00"


def test_closing_date_used_without_labels() -> None:
    lines = ["各县、区人民政府:", "正文。", "兰州市人民政府办公厅", "2017519"]
    got = published_at(lines, [], "http://www.lanzhou.gov.cn/art/x.html", None, LATEST)
    assert rfc3339(got) == "2017-05-19T00:00:00+08:00"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://www.lzbs.com.cn/lanzhounews/2024-11/20/content_1.htm", "2024-11-20"),
        ("http://www.gs.news.cn/20260113/abc/c.html", "2026-01-13"),
        ("http://gansu.people.com.cn/n2/2019/0326/c183283-1.html", "2019-03-26"),
        ("http://www.lanzhou.gov.cn/art/2017/6/7/art_4_1.html", "2017-06-07"),
        ("http://www.lanzhou.gov.cn/col/col10/art_9150.html", None),
    ],
)
def test_url_dates(url: str, expected: str | None) -> None:
    got = date_from_url(url, LATEST)
    assert (got.date().isoformat() if got else None) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("科技创新--甘肃频道--人民网", "科技创新"),
        ("提升创新主干 补齐产业发展短板_兰州新闻网", "提升创新主干 补齐产业发展短板"),
        ("新华社客户端 | 兰州新区今年计划实施重点产业项目126个-新华网甘肃频道",
         "兰州新区今年计划实施重点产业项目126个"),
        ("驱动创新引擎 释放活力之源_中国网", "驱动创新引擎 释放活力之源"),
        ("“一带一路”-兰州行动方案", "“一带一路”-兰州行动方案"),
    ],
)
def test_site_affixes(title: str, expected: str) -> None:
    assert strip_site_affixes(title) == expected


def test_authors_from_reporter_lines_and_datelines() -> None:
    assert find_authors(["□兰州日报社全媒体记者 华静"], [], []) == ["华静"]
    assert find_authors([], [], ["新华网兰州4月3日电(苏燕平 李凯)记者从兰州新区获悉"]) == \
        ["苏燕平", "李凯"]
    assert find_authors([], [], ["人民网兰州5月22日电(王文嘉)5月21日,会议召开。"]) == ["王文嘉"]
    assert find_authors([], [], ["新华社兰州4月3日电（记者张三、李四）"]) == ["张三", "李四"]
    assert find_authors(["记者 刘莉"], [], []) == ["刘莉"]


def test_editors() -> None:
    assert find_editors(["(责编:周婉婷、焦隆)"]) == ["周婉婷", "焦隆"]
    assert find_editors(["责任编辑:王旭伟"]) == ["王旭伟"]
    assert find_editors(["发布时间:2021-03-16 13:13:48 | 来源:兰州日报 | 责任编辑:牛志鑫"]) == \
        ["牛志鑫"]
    assert find_editors(["[责任编辑: 赵静 ]"]) == ["赵静"]


def test_source() -> None:
    assert find_source(["2020年05月22日08:40 来源:人民网-甘肃频道"], []) == "人民网-甘肃频道"
    assert find_source(["文章来源:兰州日报"], []) == "兰州日报"
    assert find_source(["来源: 兰州日报"], []) == "兰州日报"
    assert find_source([], ["发布时间:21-02-07 09:07 信息来源:榆中县人民政府 【字体:大 中 小】"]) \
        == "榆中县人民政府"


def test_doc_number() -> None:
    line = "索引号: GSA001/2017-00208 文件编号: 兰政办发〔2017〕145号 公开范围: 面向全社会"
    assert find_doc_number([line], []) == "兰政办发〔2017〕145号"
    assert find_doc_number([], ["甘政发[2020]12号", "各市州人民政府:"]) == "甘政发〔2020〕12号"
    assert find_doc_number([], ["正文提到兰政办发〔2017〕145号文件要求。"]) is None
