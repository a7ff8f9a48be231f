"""Hostile input: the pipeline returns an article or raises StageError / NotAnArticle."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lznews_normalizer.errors import NotAnArticle, StageError
from lznews_normalizer.pipeline import MAX_PAGE_BYTES, normalize

from .normalizer_helpers import FIXTURES, fixture_raw, raw_page

ARTICLE = (FIXTURES / "003_lzbs.html").read_bytes()
PARA = "<p>" + "兰州市科技局支持科技项目,推动高质量发展。" * 20 + "</p>\n"


def outcome(raw: dict) -> str:
    try:
        a = normalize(raw)
    except NotAnArticle:
        return "not-article"
    except StageError as exc:
        assert exc.stage in ("decode", "extract", "repair", "convert", "metadata", "entities")
        return "error"
    assert a["title"] and a["body"]
    return "article"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_random_bytes(data: bytes) -> None:
    outcome(raw_page(data))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=len(ARTICLE)))
def test_truncated_html(cut: int) -> None:
    outcome(raw_page(ARTICLE[:cut], content_type="text/html; charset=utf-8"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(ARTICLE) - 1), st.binary(min_size=1, max_size=8)),
                max_size=20))
def test_corrupted_bytes(edits: list[tuple[int, bytes]]) -> None:
    data = bytearray(ARTICLE)
    for pos, junk in edits:
        data[pos: pos + len(junk)] = junk
    outcome(raw_page(bytes(data)))


@pytest.mark.parametrize("charset", ["iso-8859-1", "big5", "gbk", "utf-16", "x-bogus", "utf-8"])
@pytest.mark.parametrize("name", ["000_people_gansu.html", "002_china_com_cn_big5.html",
                                  "003_lzbs.html"])
def test_wrong_charset_header(name: str, charset: str) -> None:
    raw = fixture_raw(name)
    raw["headers"]["content-type"] = f"text/html; charset={charset}"
    outcome(raw)


def test_pages_over_the_size_limit_are_truncated_not_lost() -> None:
    """A very long real document is indexed in part (and says so), not dead-lettered."""
    big = ("<html><head><title>兰州科技新闻</title></head><body><div>"
           + PARA * (10_000_000 // len(PARA.encode())) + "</div></body></html>")
    data = big.encode("utf-8")
    assert len(data) > MAX_PAGE_BYTES
    a = normalize(raw_page(data, content_type="text/html; charset=utf-8"))
    assert a["title"] == "兰州科技新闻"
    assert a["quality"]["truncated_bytes"] >= len(data) - MAX_PAGE_BYTES
    assert a["quality"]["truncated_chars"] > 0
    assert a["body"].startswith("兰州市科技局支持科技项目")
    assert a["quality"]["replacement_chars"] == 0  # cut between characters, not inside one


def test_10mb_page_of_inline_scripts_still_processed() -> None:
    script = "<script>var x='" + "a" * 10_000_000 + "';</script>"
    data = ARTICLE.replace(b"</head>", script.encode() + b"</head>")
    a = normalize(raw_page(data, content_type="text/html; charset=utf-8"))
    assert a["title"].startswith("强化“新四军”创新优势")


def test_large_page_under_limit() -> None:
    big = ("<html><head><title>兰州科技新闻</title></head><body><h1>兰州科技新闻</h1><div>"
           + PARA * (1_500_000 // len(PARA.encode())) + "</div></body></html>")
    assert outcome(raw_page(big.encode("utf-8"))) == "article"


def test_deeply_nested_tags() -> None:
    body = "<div>" * 10_000 + "<p>" + "兰州新闻" * 50 + "</p>" + "</div>" * 10_000
    outcome(raw_page(body.encode()))
    outcome(raw_page(("<b><i>" * 10_000 + "兰州" * 100).encode()))


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"body_b64": "!!!not base64!!!"},
        {"body_b64": ""},
        {"body_b64": "PGh0bWw+", "http_status": 404},
        {"body_b64": None},
    ],
)
def test_malformed_raw_messages(raw: dict) -> None:
    with pytest.raises(StageError):
        normalize(raw)


def test_random_html_soup() -> None:
    rng = random.Random(7)
    tags = ["<div>", "</div>", "<p>", "</p>", "<table><tr><td>", "</td></tr></table>", "<br>",
            "<a href=x>", "</a>", "<script>", "</script>", "<!--", "-->", "&#29987;", "&#x0;",
            "<meta charset=big5>", "兰州市", "科技局", "(chuàng)", "?", "首页|", "版权所有"]
    for _ in range(60):
        doc = "".join(rng.choice(tags) for _ in range(rng.randint(1, 400)))
        outcome(raw_page(doc.encode("utf-8", "surrogatepass")))
