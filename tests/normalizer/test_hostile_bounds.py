"""Hostile pages (tracker issue 14): every stage reads no more than its bound, and what does
not fit is cut where it does the least harm and counted.
"""

from __future__ import annotations

import pytest
from lxml import html

from bench.hostile_corpus import STORY, TITLE, page
from lznews_normalizer.bounds import (
    MAX_BODY_CHARS,
    MAX_BODY_LINES,
    MAX_PAGE_BYTES,
    strip_bulk,
    truncate_page,
)
from lznews_normalizer.parse import MAX_ELEMENTS, cap_lines, cut_elements
from lznews_normalizer.pipeline import normalize
from lznews_normalizer.repair import MAX_RECOVERIES, repair_lines
from lznews_normalizer.titles import MAX_TITLE_CHARS, extract_title, strip_site_affixes

from .normalizer_helpers import raw_page, utf8_page

# --- bounds on what the stages read -------------------------------------------------------------


def test_oversized_page_is_truncated_with_its_bulk_stripped_first() -> None:
    story = page(head='<meta property="og:title" content="' + "—" * 2_000_000 + '">'
                 + "<script>var x = 1;</script>" * 10_000)
    data = story.encode("utf-8")
    assert len(data) > MAX_PAGE_BYTES
    article = normalize(raw_page(data, content_type="text/html; charset=utf-8"))
    assert article["title"] == TITLE
    assert article["quality"]["truncated_bytes"] == 0  # nothing of the text had to go


def test_truncate_page_never_splits_a_character_or_a_tag() -> None:
    data = "兰州" * 100_000
    cut = truncate_page(data.encode("utf-8"), 100_001)
    assert cut.decode("utf-8") == data[: len(cut) // 3]
    cut = truncate_page(b"<p>" + "兰州 ".encode() * 40_000 + b"</p>", 100_000)
    assert cut.decode("utf-8").endswith("兰州 ")
    assert truncate_page(b"<p>abc</p>", 100) == b"<p>abc</p>"


def test_strip_bulk() -> None:
    assert strip_bulk(b"<p>a</p><script>x</script><STYLE>y</style ><p>b</p><script>z") == \
        b"<p>a</p><p>b</p>"
    assert strip_bulk(b'<img src="data:image/png;base64,AAAA">') == b'<img src="">'
    assert strip_bulk(b'<div data-x="' + b"x" * 70_000 + b'">t</div>') == b'<div data-x="">t</div>'


def test_cap_lines() -> None:
    assert cap_lines(["abc", "def", "ghi"], 10, 5) == (["abc", "de"], 4)
    assert cap_lines(["abc", "def", "ghi"], 2, 100) == (["abc", "def"], 3)
    assert cap_lines(["abc"], 10, 100) == (["abc"], 0)


def test_element_cap_keeps_the_start_of_the_page() -> None:
    article = normalize(utf8_page(body=STORY + "<br>" * (MAX_ELEMENTS + 50_000)))
    assert article["body"].startswith("兰州市科技局近日召开")
    assert article["quality"]["truncated_elements"] > 0
    assert cut_elements("<p>a</p><p>b</p><p>c</p>", 2) == "<p>a</p><p>b</p>"


def test_scripts_go_before_elements_are_cut() -> None:
    head = "<script>var a = 1;</script><style>p {}</style>" * (MAX_ELEMENTS // 2 + 1_000)
    article = normalize(utf8_page(head=head))
    assert article["body"].startswith("兰州市科技局近日召开")
    assert article["quality"]["truncated_elements"] == 0


def test_long_body_is_truncated_and_counted() -> None:
    para = "<p>" + "兰州市科技局支持科技项目，推动高质量发展。" * 10 + "</p>"
    article = normalize(utf8_page(body=STORY + para * 1_500))
    assert len(article["body"]) <= MAX_BODY_CHARS + MAX_BODY_LINES
    assert article["quality"]["truncated_chars"] > 0


def test_overlong_titles_are_not_titles() -> None:
    assert strip_site_affixes("—" * (MAX_TITLE_CHARS + 1)) == "—" * (MAX_TITLE_CHARS + 1)
    root = html.fromstring(f"<html><head><title>{'兰州新闻' * 100}</title></head><body>"
                           f"<h1>{'兰州' * 500}</h1><h1>{TITLE}</h1></body></html>")
    assert extract_title(root) == TITLE


def test_mojibake_guesses_per_page_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from lznews_normalizer import repair

    guesses = []
    real = repair.recover_char
    monkeypatch.setattr(repair, "recover_char",
                        lambda *a, **k: guesses.append(1) or real(*a, **k))
    lines, stats = repair_lines(["兰?(chuàng)州？(lán)" * 50] * 20)
    assert len(guesses) <= MAX_RECOVERIES
    assert stats.mojibake_fragments == 2_000  # every fragment still counted
