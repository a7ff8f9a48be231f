"""lznews_common.text_safety on hostile strings: what terminals, JSON lines and Markdown digests
get from untrusted text. Markdown output is checked with a real CommonMark parser."""

from __future__ import annotations

import argparse
import html
import json
import re

import pytest
from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
from elasticsearch import BadRequestError, ConnectionError
from markdown_it import MarkdownIt

from lznews_common.text_safety import (
    OneLineArgumentParser,
    comment_safe,
    error_line,
    int_between,
    json_line,
    md_link,
    md_text,
    one_line,
    text_arg,
    visible,
)

RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
HOSTILE = [
    "兰州\x1b]0;pwned\x07市\x1b[2J\x1b[H科技局",   # OSC title, clear screen
    "通知\u009b31m红\u202e反向\u2066隔离\u2069",      # 8-bit CSI, bidi override/isolate
    "删除\x7f\x08\x08回车\r覆盖\u2028分行\u0085NEL",
    "坏\ud800字",                                     # a lone surrogate (from JSON "\ud800")
]
MARKDOWN = [
    "[点我](javascript:alert(1))", "![img](http://x/y.png)", "*粗* _斜_ **强** `码` ~~删~~",
    "<b>加粗</b> <script>x()</script> &amp; &#x41;", "<!-- alert:w1:abc --> -->", "a \\ b \\* c",
    "# 标题", "1. 列表", "- 项", "+ 项", "=== ", "| 表 | 格 |", "<http://auto.link>",
    "兰政办发〔2025〕12号（附件）",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_visible_escapes_every_control_and_keeps_the_rest(text: str) -> None:
    out = visible(text)
    assert not RAW_CONTROL.search(out) and not re.search("[\ud800-\udfff]", out)
    out.encode("utf-8")  # printable on a UTF-8 terminal
    assert re.sub(r"\\(x[0-9a-f]{2}|u[0-9a-f]{4}|[nrt])", "", out) == RAW_CONTROL.sub(
        "", re.sub("[\ud800-\udfff]", "", text))  # only the escapes were added


def test_visible_forms() -> None:
    assert visible("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert visible("\u009b\u202e\ud800") == "\\x9b\\u202e\\ud800"
    assert visible("一\n二\t三") == "一\\n二\\t三"
    assert visible("一\n二\x07", keep_newlines=True) == "一\n二\\x07"
    assert visible("兰州市（2025）[x] \\ 《措施》") == "兰州市（2025）[x] \\ 《措施》"


def test_one_line() -> None:
    assert one_line("error\n  at\tline\x1b[2J 2") == "error at line\\x1b[2J 2"
    assert one_line("长" * 500, limit=10) == "长" * 9 + "…"


@pytest.mark.parametrize("text", HOSTILE)
def test_json_line_escapes_what_json_dumps_leaves_raw(text: str) -> None:
    out = json_line({"title": text, "n": 1})
    assert "\n" not in out and not RAW_CONTROL.search(out)
    assert json.loads(out) == {"title": text, "n": 1}
    assert "兰州" in json_line({"t": "兰州"})  # Chinese stays readable


def render_inline(markdown: str) -> str:
    """What a reader sees: the rendered HTML paragraph, tags removed, entities decoded."""
    rendered = MarkdownIt("commonmark").render(markdown)
    return html.unescape(re.sub(r"</?p>\n?", "", rendered)).rstrip("\n")


@pytest.mark.parametrize("text", MARKDOWN + HOSTILE)
def test_md_text_renders_back_to_the_text_itself(text: str) -> None:
    escaped = md_text(text, line_start=True)
    assert "<!--" not in escaped and "-->" not in escaped
    # Whitespace (newlines, U+2028, NEL) folds to one space; other controls are dropped.
    expected = RAW_CONTROL.sub("", re.sub("[\ud800-\udfff]", "", re.sub(r"\s+", " ", text)))
    expected = expected.strip()
    # No link, image, emphasis, HTML, heading or list: the reader sees exactly the text.
    assert render_inline(escaped) == expected


def test_md_link_keeps_one_link_whatever_the_url() -> None:
    url = 'http://www.lzbs.com.cn/a b/(c)<d>"e\\f\x1b.htm'
    tokens = MarkdownIt("commonmark").parseInline(md_link("标题](http://evil)", url))[0].children
    links = [t.attrs["href"] for t in tokens if t.type == "link_open"]
    assert links == ["http://www.lzbs.com.cn/a%20b/%28c%29%3Cd%3E%22e%5Cf%1B.htm"]
    assert "".join(t.content for t in tokens if t.type == "text") == "标题](http://evil)"
    assert md_link("标题", "http://x.cn/中文.htm") == "[标题](http://x.cn/中文.htm)"
    # Only http(s) is linked: a javascript: or data: URL is shown as text.
    for bad in ("javascript:alert(1)", "JaVaScRiPt:x", "data:text/html,<b>"):
        shown = MarkdownIt("commonmark").parseInline(md_link("t", bad))[0].children
        assert not [t for t in shown if t.type == "link_open"]


def test_comment_safe_cannot_close_a_comment() -> None:
    ordinary = "w0123456789abcde:da39a3ee5e6b4b0d3255bfef95601890afd80709:076f1dc2ee4114c4"
    assert comment_safe(ordinary) == ordinary
    for value in ("x -->", "a--!>b", "<!-- y", "line\nbreak", "坏\ud800"):
        out = comment_safe(value)
        assert out.isascii() and not re.search(r"[<>\s]", out)
        assert comment_safe(value) == out  # deterministic: a replay finds its marker


def api_error(status: int, body: dict) -> BadRequestError:
    meta = ApiResponseMeta(status=status, http_version="1.1", headers=HttpHeaders(),
                           duration=0.0, node=NodeConfig("http", "127.0.0.1", 9200))
    return BadRequestError(message="refused", meta=meta, body=body)


def test_error_line_reads_the_root_cause() -> None:
    body = {"error": {"root_cause": [{"type": "illegal_argument_exception",
                                      "reason": "[size] parameter cannot be negative,\n"
                                                "found [-1]\x1b[2J"}],
                      "type": "search_phase_execution_exception", "reason": "all shards failed"},
            "status": 400}
    assert error_line(api_error(400, body)) == (
        "search server answered HTTP 400 (illegal_argument_exception): "
        "[size] parameter cannot be negative, found [-1]\\x1b[2J")
    assert error_line(api_error(400, {"error": "no handler found"})) == (
        "search server answered HTTP 400: no handler found")
    gone = error_line(ConnectionError("Connection refused"))
    assert gone.startswith("search server unreachable") and "\n" not in gone


def test_argument_checks(capsys: pytest.CaptureFixture[str]) -> None:
    size = int_between(1, 100)
    assert size("7") == 7
    for bad in ("0", "101", "-1", "x", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            size(bad)
    assert text_arg("科技 创新") == "科技 创新"
    for bad in ("科技\x1b[2J", "\x07", "a\nb", "坏\udcff"):
        with pytest.raises(argparse.ArgumentTypeError):
            text_arg(bad)

    parser = OneLineArgumentParser(prog="lznews-x")
    parser.add_argument("-n", type=size)
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(["-n", "-1"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err == "lznews-x: error: argument -n: must be between 1 and 100, not -1\n"
