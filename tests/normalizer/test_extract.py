from __future__ import annotations

from pathlib import Path

import pytest

from lznews_normalizer.boilerplate import clean_lines, is_nav_or_farm
from lznews_normalizer.listing import looks_like_listing
from lznews_normalizer.parse import html_lines, parse_html
from lznews_normalizer.repair import repair_lines
from lznews_normalizer.spam import is_spam

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"


def _clean(lines: list[str]):
    fixed, _ = repair_lines(lines)
    return clean_lines(fixed)


def test_seed_003_lines_sorted_into_body_meta_and_boilerplate() -> None:
    lines = [
        "手機(jī)蘭州新聞網(wǎng)",
        "首頁| 蘭州| 新聞| 政務(wù)| 房產(chǎn)| 旅游| 汽車| 教育| 財(cái)經(jīng)| 健康",
        "您的位置:網(wǎng)站首頁 > 新聞中心>蘭州新聞> 正文",
        "2025-04-10 09:06:31 智能朗讀:",
        "近日,全市科技大會(huì)召開,為蘭州市科技創(chuàng)新發(fā)展按下了加速鍵。",
        "夯實(shí)創(chuàng)新根基",
        "蘭州日?qǐng)?bào)社全媒體記者 華靜",
        "責(zé)任編輯:王旭偉",
        "來源: 蘭州日?qǐng)?bào)",
        "關(guān)閉",
        "国内精品久久人妻无码免费,婷婷五月天久久中文,亚欧无码vs在线观看,久久国产精品久久国产",
    ]
    c = _clean(lines)
    assert c.body == ["近日,全市科技大會召開,為蘭州市科技創新發展按下了加速鍵。", "夯實創新根基"]
    assert c.spam_blocks == 1
    assert c.boilerplate_lines == 4  # brand, nav, breadcrumb, 關閉
    assert len(c.meta_lines) == 4  # date line, reporter, editor, source


def test_related_reading_link_farm_removed() -> None:
    c = clean_lines(["正文第一段,内容。", "(责编:周婉婷、焦隆)", "推荐阅读",
                     "稻城县| 铜川市| 吉林市| 平顺县| 澎湖县| 台南县| 武山县| 西藏| 鹰潭市|"])
    assert c.body == ["正文第一段,内容。"] and c.boilerplate_lines == 2


def test_licence_footer_lines_removed() -> None:
    lines = ["版權所有 中國網際網路新聞中心 電話: 86-10-88828000 京ICP證 040089號",
             "網路傳播視聽節目許可證號:0105123 京公網安備110108006329號 京網文[2011]0252-085號",
             "主办:兰州市人民政府 承办:兰州市人民政府办公厅", "备案:陇ICP备11000631",
             "Produced By 大汉网络 大汉版通发布系统", "版權聲明:",
             '凡文章來源為"蘭州新聞網"的稿件,均為蘭州新聞網獨家版權所有,未經許可不得轉載或鏡像。']
    c = clean_lines(lines)
    assert c.body == [] and c.boilerplate_lines == len(lines)


def test_legit_sentences_with_footer_words_kept() -> None:
    keep = ["连续举办了四届“兰州科技成果博览会”、承办了三届中国创新挑战赛(兰州)现场赛。",
            "省上下达的工业新产品开发任务,由市科技局负责,市政府金融办配合。"]
    assert clean_lines(keep).body == keep


@pytest.mark.parametrize(
    "spam",
    ["国内精品久久人妻无码免费,婷婷五月天久久中文,亚欧无码vs在线观看,久久国产精品久久国产",
     "日韩欧美中文字幕在线观看,午夜福利免费视频,一区二区三区高清无码",
     "百家乐娱乐城,六合彩时时彩,棋牌赌场开户"],
)
def test_spam_detected_by_lexicon_density(spam: str) -> None:
    assert is_spam(spam)


@pytest.mark.parametrize(
    "news",
    ["兰州推出精品旅游线路,国产大飞机首次亮相,免费开放高清影像资料。",
     "兰州新区加快打造西部地区千亿级产业发展引领区,累计引进产业项目超过820多个。"],
)
def test_news_with_some_spam_words_is_not_spam(news: str) -> None:
    assert not is_spam(news)


def test_spam_tail_cut_from_a_body_line() -> None:
    c = clean_lines(["兰州市召开科技大会,部署全年工作。国内精品久久人妻无码免费,婷婷五月天久久中文,"
                     "亚欧无码vs在线观看,久久国产精品久久国产"])
    assert c.body == ["兰州市召开科技大会,部署全年工作。"] and c.spam_blocks == 1


def test_nav_detection() -> None:
    assert is_nav_or_farm("首页| 兰州| 新闻| 政务| 房产| 旅游")
    assert not is_nav_or_farm("兰州市科技局|甘肃省科技厅")  # two items are not a nav bar


def test_title_line_dropped_from_body() -> None:
    title = "驱动创新引擎 释放活力之源"
    c = clean_lines([title, "正文第一段。"], title=title)
    assert c.body == ["正文第一段。"] and c.title_lines == 1


def test_listing_detection() -> None:
    items = [f"兰州新闻标题{i} 2025-04-{i + 1:02d}" for i in range(8)]
    assert looks_like_listing(items)
    assert not looks_like_listing(["兰州市召开科技大会,部署全年工作。"] * 8)


def test_html_lines_handles_tables_and_skips_scripts() -> None:
    root = parse_html("<html><body><script>var a='兰州';</script><table><tr><td>索引号:</td>"
                      "<td>GSA001</td></tr></table><p>第一段<br>第二段</p></body></html>")
    assert html_lines(root) == ["索引号: GSA001", "第一段", "第二段"]


@pytest.mark.skipif(not SEEDS.exists(), reason="shared seeds not present")
@pytest.mark.parametrize("seed", sorted(p.name for p in SEEDS.glob("*.txt")) if SEEDS.exists()
                         else [])
def test_seed_texts_lose_their_spam_and_link_farms(seed: str) -> None:
    lines = [ln.strip() for ln in (SEEDS / seed).read_text("utf-8").split("\n") if ln.strip()]
    body = "\n".join(_clean(lines).body)
    for frag in ("稻城县", "婷婷", "ICP", "版權所有", "版权所有", "關閉", "首頁|", "打印本页"):
        assert frag not in body
