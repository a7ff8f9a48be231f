"""Hostile pages (tracker issue 14): each ends as an article or a StageError, every stage is
handed no more than its bound, control characters never reach an article, and what the parser
cuts or replaces is reported.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from bench.hostile_corpus import STORY, TITLE, hostile_pages, page, url_for
from lznews_common.models import Article
from lznews_normalizer import extract, pipeline
from lznews_normalizer.bounds import MAX_BODY_CHARS, MAX_BODY_LINES, MAX_PAGE_CHARS, MAX_PAGE_LINES
from lznews_normalizer.errors import STAGES, NotAnArticle, StageError
from lznews_normalizer.extract import MAX_TRAFILATURA_ELEMENTS
from lznews_normalizer.parse import MAX_ELEMENTS
from lznews_normalizer.pipeline import normalize
from lznews_normalizer.repair import strip_controls
from lznews_normalizer.tagger import MAX_TAGGED_CHARS, default_tagger
from lznews_normalizer.titles import MAX_TITLE_CHARS

from .normalizer_helpers import raw_page, utf8_page

CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
PAGES = dict(hostile_pages())


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


# --- every hostile page ------------------------------------------------------------------------


class Spy:
    """Records what the expensive stages are handed during one normalize() call."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tagged: list[int] = []
        self.repaired: list[tuple[int, int]] = []  # (lines, characters) per repair_lines call
        self.elements: list[int] = []  # per extract_main call
        self.trafilatura = 0
        real_repair, real_extract = pipeline.repair_lines, pipeline.extract_main
        real_traf = extract._trafilatura_lines

        def repair(lines: list[str], *a: Any) -> Any:
            self.repaired.append((len(lines), sum(map(len, lines))))
            return real_repair(lines, *a)

        def extract_main(text: str, root: Any, *rest: Any) -> Any:
            self.elements.append(int(root.xpath("count(//*)")))
            return real_extract(text, root, *rest)

        def traf(text: str) -> list[str]:
            self.trafilatura += 1
            return real_traf(text)

        monkeypatch.setattr(pipeline, "repair_lines", repair)
        monkeypatch.setattr(pipeline, "extract_main", extract_main)
        monkeypatch.setattr(extract, "_trafilatura_lines", traf)

    def tag(self, text: str) -> list[tuple[str, str]]:
        self.tagged.append(len(text))
        return default_tagger().tag(text)


@pytest.mark.parametrize("name", list(PAGES))
def test_hostile_page_is_an_article_or_a_stage_error_within_bounds(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch)
    try:
        article = normalize(raw_page(PAGES[name], url=url_for(name)), tagger=spy)
    except StageError as exc:  # NotAnArticle is one
        assert exc.stage in STAGES and exc.reason
        article = None
    assert all(n <= MAX_ELEMENTS for n in spy.elements)
    if spy.trafilatura:
        assert spy.elements[-1] <= MAX_TRAFILATURA_ELEMENTS
    for lines, chars in spy.repaired:
        assert lines <= max(MAX_BODY_LINES, MAX_PAGE_LINES)
        assert chars <= max(MAX_BODY_CHARS, MAX_PAGE_CHARS)
    assert all(n <= MAX_TAGGED_CHARS for n in spy.tagged)
    if article is not None:
        Article.model_validate(article)
        assert len(article["title"]) <= MAX_TITLE_CHARS
        assert len(article["body"]) <= MAX_BODY_CHARS + MAX_BODY_LINES  # plus the newlines
        assert not any(CONTROL.search(s) for s in strings(article))
        assert all(isinstance(v, int) and v >= 0 for v in article["quality"].values())


def test_the_issue_pages_are_articles() -> None:
    """The pages of the issue are real articles with hostile parts: they must not be lost."""
    for name in ("title-dashes", "title-ideographic-spaces", "han-run-60k", "200k-p",
                 "mixed-300k"):
        article = normalize(raw_page(PAGES[name], url=url_for(name)))
        assert article["title"] == TITLE, name
        assert article["body"].startswith("兰州市科技局近日召开"), name



# --- control characters ---------------------------------------------------------------------------


def test_strip_controls_removes_escape_sequences_whole() -> None:
    text = "兰\x1b[1;31m州\x1b[0m\x07新\x1b]0;owned\x07闻\x00\x85\x7f\tA\nB\r\x1bZ"
    assert strip_controls(text) == ("兰州新闻\tA\nB\r", 8)
    assert strip_controls("兰州新闻") == ("兰州新闻", 0)


def test_control_characters_reach_no_field_of_the_article() -> None:
    raw = utf8_page(
        title=f"\x1b[1;31m{TITLE}\x1b[0m\x07",
        head='<meta name="source" content="来源：兰州\x07日报">',
        body="<p>\x1b]0;owned\x07兰州市科技局近日召开&#27;全市科技创新工作推进会议，部署今年重点"
             "工作任务。\x07会议指出，要加快推进科技成果转化，支持企业加大研发投入。</p>"
             "<p>记者\x1b[2J 张淼淼</p>" + STORY)
    article = normalize(raw)
    assert article["title"] == TITLE
    assert not any(CONTROL.search(s) for s in strings(article))
    assert "owned" not in article["body"] and "[2J" not in article["body"]
    assert article["quality"]["control_chars"] >= 8


def test_nul_bytes_are_dropped_not_replaced() -> None:
    data = page().encode("utf-8").replace("，".encode(), b"\x00\xef\xbc\x8c\x00")
    article = normalize(raw_page(data))
    assert "\ufffd" not in article["body"] and "，" in article["body"]
    assert article["quality"]["replacement_chars"] == 0
    assert article["quality"]["control_chars"] == 2 * data.count("，".encode())


# --- what the parser cut or replaced ------------------------------------------------------------


def test_depth_limit_cut_is_the_reason_not_too_little_text() -> None:
    raw = utf8_page(body="<div>" * 300 + STORY + "</div>" * 300)
    with pytest.raises(StageError) as exc:
        normalize(raw)
    assert not isinstance(exc.value, NotAnArticle)  # the page is not to blame as "no article"
    assert exc.value.stage == "extract"
    assert "nested deeper than 256 elements" in exc.value.reason
    assert "line 1, column" in exc.value.reason


def test_depth_limit_cut_after_the_story_keeps_it_and_says_so() -> None:
    article = normalize(utf8_page(body=STORY + "<div>" * 300 + STORY))
    assert article["body"].startswith("兰州市科技局近日召开")
    assert article["quality"]["depth_truncated"] == 1


def test_replacement_characters_made_by_the_parser_are_counted() -> None:
    body = ("<p>兰州市科技局近日召开&#0;全市科技创新工作推进会议&#xD800;，部署今年重点工作任务"
            "&#x110000;。</p>" + STORY)
    article = normalize(utf8_page(body=body))
    assert article["body"].count("\ufffd") == 3
    assert article["quality"]["replacement_chars"] == 3


def test_replacement_characters_from_decoding_still_counted() -> None:
    data = page().encode("utf-8").replace("，".encode(), b"\xff", 2)
    article = normalize(raw_page(data))
    assert article["quality"]["replacement_chars"] == 2
