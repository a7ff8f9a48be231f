"""The normaliser on the real captured pages of the dev set (eval/devset/): what it decides and
extracts there is checked against the hand-labelled gold. `make eval` scores every field;
these tests pin what already holds, so that no rule tuned later loses it."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

from eval import scoring
from lznews_normalizer.convert import convert
from lznews_normalizer.errors import NotAnArticle
from lznews_normalizer.pipeline import normalize

from .normalizer_helpers import raw_page

DEVSET = Path(__file__).resolve().parents[2] / "eval" / "devset"
GOLD = {p.stem: json.loads(p.read_text("utf-8")) for p in sorted(DEVSET.glob("*.json"))}
# Misses still open (issue: accuracy on real pages); each must be fixed, not hidden.
KNOWN_DECISION_MISSES = {
    "hant_10_news_wenweipo_com_list": "a Big5 column page of headlines with summaries",
    "news4_01_gansudaily_com_cn_listing": "a portal home page of headline blocks with summaries",
}


@functools.cache
def _normalize(page_id: str) -> dict | None:
    gold = GOLD[page_id]
    try:
        return normalize(raw_page((DEVSET / f"{page_id}.html").read_bytes(), gold["url"],
                                  site=gold["site"]))
    except NotAnArticle:
        return None


@pytest.mark.parametrize("page_id", [p for p in GOLD if p not in KNOWN_DECISION_MISSES])
def test_articles_are_kept_and_listings_rejected(page_id: str) -> None:
    accepted = _normalize(page_id) is not None
    assert accepted == (GOLD[page_id]["kind"] == "article")


@pytest.mark.parametrize("page_id", ["gov2_04_pbc_gov_cn_tiaofasi", "news2_02_chinanews_com"])
def test_short_articles_on_link_heavy_pages_are_articles(page_id: str) -> None:
    """Over 70% of these pages' text is links (navigation, related lists), yet each carries a
    notice or a report: a prose paragraph outside the links keeps it."""
    article = _normalize(page_id)
    assert article is not None
    for sentence in GOLD[page_id]["body_keep"][:1]:
        assert sentence[:12] in article["body"].replace("\n", "")


def _simplified(names: list[str]) -> set[str]:
    return {convert(n).text for n in names}


@pytest.mark.parametrize("page_id", [
    "hant_01_singpao_com_hk",  # 记者邓厚仁报道, inside the body
    "hant_02_news_wenweipo_com",  # (香港文汇报 记者 颜晋杰 文森): the paper's name first
    "hant_05_paper_wenweipo_com",  # 香港文汇报讯（记者 郑治祖）
    "news2_02_chinanews_com",  # (记者张淼淼) at the end of the body
    "news2_03_infzm_com",  # 作者：南方周末记者 雍兴中 … 南方周末实习生 朱亮韬; 网络编辑: / 瓦特
    "news2_04_infzm_com",  # editors with 助理编辑 among them
])
def test_bylines_and_editors(page_id: str) -> None:
    article = _normalize(page_id)
    assert article is not None
    gold = GOLD[page_id]
    assert set(article["authors"]) == _simplified(gold["authors"])
    assert set(article["editors"]) == _simplified(gold["editors"])


# Field misses still open, by page; every other (page, field) must keep matching its gold.
KNOWN_FIELD_MISSES = {
    ("hant_02_news_wenweipo_com", "source"): "the paper is named only in the dateline",
    ("hant_05_paper_wenweipo_com", "source"): "the paper is named only in the dateline",
    ("hant_04_aomp_judicial_gov_tw", "title"): "a court notice inside one <pre>",
    ("hant_04_aomp_judicial_gov_tw", "date"): "a court notice inside one <pre>",
    ("hant_04_aomp_judicial_gov_tw", "source"): "a court notice inside one <pre>",
    ("hant_04_aomp_judicial_gov_tw", "doc_number"): "a Taiwanese court case number",
    ("news3_01_mandarin_bernama_com", "title"): "headline in a table cell, site-only <title>",
    ("news3_01_mandarin_bernama_com", "date"): "date in the table of the headline",
    ("news3_01_mandarin_bernama_com", "source"): "马新社 only in the body",
    ("news3_02_mandarin_bernama_com", "title"): "headline in a table cell, site-only <title>",
    ("news3_02_mandarin_bernama_com", "date"): "date in the table of the headline",
    ("news3_02_mandarin_bernama_com", "source"): "马新社 only in the body",
    ("gov5_02_nfra_gov_cn", "title"): "the decision number kept after the headline",
    ("gov5_02_nfra_gov_cn", "date"): "the decision's date in the table beats 发布时间",
    ("gov5_04_shanxi_chinatax_gov_cn", "doc_number"): "the number only in the notice's heading",
    ("news4_05_news_mingpao_com", "source"): "the paper named only in the masthead",
    ("news4_06_bbc_co_uk", "source"): "the outlet named only in the masthead",
}
_SCORERS = {
    "title": lambda gold, got: scoring.score_title(gold["title"], got["title"])[0],
    "date": lambda gold, got: scoring.score_date(gold["published_at"], got["published_at"]),
    "source": lambda gold, got: scoring.score_source(gold["source"], got["source"]),
    "doc_number": lambda gold, got: scoring.score_doc_number(gold["doc_number"],
                                                             got["doc_number"]),
}


@pytest.mark.parametrize("page_id,field", [
    (p, f) for p, g in GOLD.items() if g["kind"] == "article" for f in _SCORERS
    if (p, f) not in KNOWN_FIELD_MISSES
])
def test_metadata_matches_gold(page_id: str, field: str) -> None:
    article = _normalize(page_id)
    assert article is not None
    assert _SCORERS[field](GOLD[page_id], article), (field, article[_FIELD.get(field, field)])


_FIELD = {"date": "published_at"}


# Boilerplate strings still left in, and body sentences still lost, by page (open misses).
KNOWN_LEFT = {
    "gov2_06_gov_cn": 1, "gov3_02_www_gov_cn": 1, "gov4_02_csrc_gov_cn": 1,
    "gov4_03_my_china_embassy_org": 1, "gov4_04_my_china_embassy_org": 1,
    "hant_01_singpao_com_hk": 2, "hant_04_aomp_judicial_gov_tw": 2,
    "news2_05_cic_mofcom_gov_cn": 2, "news3_01_mandarin_bernama_com": 1,
    "news3_02_mandarin_bernama_com": 1, "gov5_03_nfra_gov_cn_zhejiang": 2,
    "gov5_05_cic_mofcom_gov_cn": 2, "news4_04_finance_sina_com_cn": 1,
}
KNOWN_LOST = {"gov2_05_ndrc_gov_cn": 1}


@pytest.mark.parametrize("page_id", [p for p, g in GOLD.items() if g["kind"] == "article"])
def test_body_keeps_the_article_and_drops_the_chrome(page_id: str) -> None:
    article = _normalize(page_id)
    assert article is not None
    gold = GOLD[page_id]
    left = scoring.body_leftover(gold["body_drop"], article["body"])
    lost = scoring.body_missing(gold["body_keep"], article["body"])
    assert len(left) <= KNOWN_LEFT.get(page_id, 0), left
    assert len(lost) <= KNOWN_LOST.get(page_id, 0), lost
