"""Hostile pages (tracker issue 14): no rule is super-linear in the page.

Boundedness is proven without clocks: the rules that were quadratic or worse run in a child
process on inputs the old code needed many minutes for (the fixed code needs a fraction of a
second; the timeout is generous, so a slow machine does not fail them).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lznews_normalizer import entities

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60  # seconds; the fixed code needs well under one for each child below


# --- rules that were quadratic (or worse) -------------------------------------------------------


def run_child(code: str) -> str:
    """Run `code` in a fresh interpreter; fails (TimeoutExpired) past TIMEOUT seconds."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip()


@pytest.mark.parametrize("title", ["'—' * 300_000", "'兰州' + '\\u3000' * 300_000 + 'x'"])
def test_site_suffix_rules_are_bounded_on_huge_titles(title: str) -> None:
    # Old: 30,000 dashes took 20 s, quadratically: 300,000 would take half an hour.
    out = run_child(f"""
        from lznews_normalizer.parse import parse_html
        from lznews_normalizer.titles import extract_title
        root = parse_html("<html><head><title>" + {title} + "</title></head>"
                          "<body><h1>兰州市召开科技创新工作推进会</h1></body></html>")
        print(extract_title(root))
    """)
    assert out == "兰州市召开科技创新工作推进会"


def test_signer_rule_does_not_read_paragraphs() -> None:
    # Old: _SIGNER on a 60,000-character paragraph took 32 s; 300,000 take over ten minutes.
    out = run_child("""
        from bench.hostile_corpus import han_run
        from lznews_normalizer.dates import closing_date
        lines = [han_run(300_000), "2025年4月10日", "兰州市人民政府办公厅", "2017年5月19日"]
        print(closing_date(lines).date())
    """)
    assert out == "2017-05-19"


def test_credit_rule_is_linear_in_spaces() -> None:
    # Old: three overlapping \\s quantifiers, cubic: 1,000 spaces took a minute.
    out = run_child("""
        from lznews_normalizer.bylines import find_authors
        body = ["（记者" + " " * 3_000 + "张三", "（记者" + " " * 3_000 + "李四）"]
        print(find_authors([], [], body))
    """)
    assert out == "['李四']"


def test_label_rules_are_linear_in_spaces() -> None:
    # Old: `\\s*[:：]?\\s*` after 发布时间, quadratic: 40,000 spaces took 64 s.
    out = run_child("""
        from lznews_normalizer.bylines import find_editors
        from lznews_normalizer.dates import published_at
        lines = ["发布时间" + " " * 200_000 + "x", "编辑" + " " * 200_000 + "x",
                 "发布时间：2025-04-10 09:06"]
        print(published_at(lines, [], "http://x/").isoformat(), find_editors(lines))
    """)
    assert out == "2025-04-10T09:06:00+08:00 []"


def test_short_book_titles_are_checked_against_a_set() -> None:
    # Old: each short 《》 title scanned all others: 80,000 titles, over seven minutes.
    out = run_child("""
        from lznews_normalizer.entities import policy_documents
        chars = [chr(0x4e00 + i) for i in range(400)]
        text = "".join(f"《{a}{b}》" for a in chars[:200] for b in chars)
        text += "《兰州市科技创新平台方案》推进《方案》"
        docs = policy_documents(text)
        print(len(docs), "方案" in docs)
    """)
    assert out == "80001 False"


def test_conjunction_names_are_checked_against_a_set() -> None:
    # Old: a list scan per name: 300,000 names, about ten minutes.
    out = run_child("""
        from lznews_normalizer.entities import extract_entities
        class NoTags:
            def tag(self, text): return []
        known = [f"和{i}" for i in range(300_000)] + ["林铎", "和林铎"]
        print(len(extract_entities("", NoTags(), known_people=known).people))
    """)
    assert out == "300001"


def test_spam_tail_cut_is_linear() -> None:
    # Old: list.insert(0) per segment: 1.2 million segments, minutes.
    out = run_child("""
        from lznews_normalizer.spam import strip_spam_segments
        line = "兰州市科技局召开全市科技创新工作会议。" + "无码，人妻，" * 600_000 + "无码"
        kept, cut = strip_spam_segments(line)
        print(kept, cut)
    """)
    assert out == "兰州市科技局召开全市科技创新工作会议。 True"


def test_unclosed_scripts_in_an_oversized_page_are_linear() -> None:
    # Old: a lazy <script.*?</script> regex rescanned the page for each unclosed tag.
    out = run_child("""
        import base64
        from lznews_normalizer.pipeline import normalize
        body = ("<title>兰州新闻</title><p>" + "兰州市科技局召开会议。" * 20 + "</p>").encode()
        body += b"<script " * 600_000
        raw = {"url": "http://x/a.htm", "final_url": "http://x/a.htm", "site": "x",
               "fetched_at": "2026-01-02T03:04:05Z", "http_status": 200, "crawl_id": "test",
               "body_b64": base64.b64encode(body).decode()}
        print(normalize(raw)["title"])
    """)
    assert out == "兰州新闻"  # read, not refused for its size


def test_nested_links_are_read_once() -> None:
    # Old: text_content() of every link, each holding all links nested in it: 1,000 levels of
    # 1,000 characters took 50 s, quadratically.
    out = run_child("""
        from lxml import html
        from lznews_normalizer.listing import anchor_han_ratio, has_prose
        lead = "兰州市科技局召开全市科技创新工作推进会议，部署今年重点工作任务。" * 2
        doc = html.fromstring(f"<html><body><p>{lead}</p></body></html>")
        node = doc.find("body")
        for _ in range(3_000):
            link = html.Element("a")
            link.text = "兰州新闻" * 250
            node.append(link)
            node = link
        print(round(anchor_han_ratio(doc), 3), has_prose([lead], doc))
    """)
    assert out == "1.0 True"


def test_huge_digit_runs_are_no_amounts() -> None:
    # Old: a Decimal of 500,000 digits, which int() refuses (ValueError).
    assert entities.amounts("1" * 500_000 + "元") == []
    assert entities.amounts("投资3000万元") == [{"text": "3000万元", "value_cny": 30_000_000}]


def test_densest_block_counts_each_character_once() -> None:
    """The fallback extractor counts Han characters in one pass (text_content() per element
    read every character once per enclosing block: 600 levels took 19 s, quadratically)."""
    out = run_child("""
        from lxml import html
        from lznews_normalizer.extract import _densest_block
        doc = html.fromstring("<html><body><div id='nav'><p>首页</p></div><div id='main'>"
                              "<p>兰州新闻</p></div></body></html>")
        node = doc.get_element_by_id("main")
        for i in range(3_000):  # deeper than the parser allows, as a tree built in code can be
            div, span = html.Element("div", id=f"d{i}"), html.Element("span")
            span.text = "兰州新闻" * 250
            div.append(span)
            node.append(div)
            node = span
        print(_densest_block(doc).get("id"))
    """)
    assert out == "d0"  # its one child holds all the nested text
