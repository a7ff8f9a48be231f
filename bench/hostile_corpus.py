"""Hostile pages for the normaliser, generated in code (no large files in the repository).

    from bench.hostile_corpus import hostile_pages, url_for

hostile_pages() yields (name, raw bytes) pairs: the pages of tracker issue 14 (a <title> of
30,000 dashes or ideographic spaces, 60,000 Han characters in one <p>, 200,000 <p>, a 300 KB
mix of them) and the other shapes that make text-processing code slow or crash: deep nesting,
huge attributes, bracket soup, a 5 MB line, digit and date runs, exotic whitespace, thousands
of scripts, NUL bytes, terminal escapes, broken UTF-8 / GB18030 and a very long URL.
url_for(name) is the URL to fetch each page "from". Used by tests/normalizer/test_hostile_pages.py
and bench/bench_hostile.py, so the test proves what the benchmark times.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

DEFAULT_URL = "http://www.lzbs.com.cn/lanzhounews/2025-04/10/content_1.htm"
LONG_URL = ("http://www.lanzhou.gov.cn/art/2025/4/10/" + "a1%E5%85%B0/" * 8_000
            + "?q=" + "2025-04-10_" * 2_000 + "#" + "x" * 5_000)

# A plausible short news story: enough Han text that the page is an article, so a hostile part
# travels through every stage instead of being rejected at the first check.
LEAD = ("兰州市科技局近日召开全市科技创新工作推进会议，部署今年重点工作任务。会议指出，要加快推进"
        "科技成果转化，支持企业加大研发投入，推动高质量发展。")
STORY = (f"<p>{LEAD}</p>\n<p>市科技局局长王柠表示，今年将安排专项资金三千万元，支持重点实验室建设。"
         "</p>\n<p>（记者 张淼淼）</p>\n")
TITLE = "兰州市召开科技创新工作推进会"
# Han characters that form no organisation suffix or date, in a fixed pseudo-random order.
IDEO_SPACES = "\u3000" * 50_000
_HAN = "的一是不了人我在有他这中大来上个国到说们为子和你地出道也时年得就那要下以生会自着去之过家"


INFO = "<div class=\"info\">发布时间：2025-04-10 09:06 来源：兰州日报</div>"


def page(title: str = TITLE, body: str = STORY, head: str = "", charset: str = "utf-8",
         info: str = INFO) -> str:
    """An article page; without `info` (its date line), metadata falls back to every line."""
    return (f"<!DOCTYPE html><html><head><meta charset=\"{charset}\"><title>{title}</title>{head}"
            f"</head><body><div class=\"content\"><h1>{TITLE}</h1>{info}{body}</div>"
            "</body></html>")


def han_run(n: int, seed: int = 14) -> str:
    """n Han characters without punctuation, spaces or organisation suffixes."""
    rng = random.Random(seed)
    return "".join(rng.choice(_HAN) for _ in range(n))


def _utf8(html: str) -> bytes:
    return html.encode("utf-8")


def _issue_pages() -> Iterator[tuple[str, bytes]]:
    yield "title-dashes", _utf8(page(title="—" * 30_000))
    yield "title-ideographic-spaces", _utf8(page(title="\u3000" * 30_000))
    yield "han-run-60k", _utf8(page(body=STORY + f"<p>{han_run(60_000)}</p>", info=""))
    yield "200k-p", _utf8(page(body=STORY + "<p>兰州市</p>" * 200_000))
    mixed = (STORY + f"<p>{han_run(40_000)}</p>" + "<p>兰州市</p>" * 5_000
             + "<p>" + "—" * 10_000 + "</p><p>" + "\u3000" * 10_000 + "</p>")
    yield "mixed-300k", _utf8(page(title="—" * 10_000 + "\u3000" * 10_000, body=mixed))


def _structure_pages() -> Iterator[tuple[str, bytes]]:
    yield "nested-div-100k", _utf8(page(body="<div>" * 100_000 + STORY + "</div>" * 100_000))
    yield "nested-after-text", _utf8(page(body=STORY + "<span>" * 50_000 + STORY * 3))
    yield "nested-inline-200", _utf8(page(body="<span><div>" * 120 + STORY * 40
                                          + "</div></span>" * 120))
    yield "nested-links", _utf8(page(body=STORY + "<span><a href=\"/x\">" * 120
                                     + f"<p>{LEAD}</p>" * 8_000))
    big = "—" * 1_000_000
    yield "huge-attributes", _utf8(page(
        head=(f"<meta property=\"og:title\" content=\"{big}\">"
              f"<meta name=\"source\" content=\"{'来源:' * 300_000}\">"
              f"<meta name=\"pubdate\" content=\"{'2025-04-10 ' * 100_000}\">"),
        body=f"<div class=\"title\" data-x=\"{'x' * 1_000_000}\">{IDEO_SPACES}</div>" + STORY))
    yield "brackets-only", _utf8(page(body=STORY + "<p>" + "「《》」" * 200_000 + "</p>"))
    yield "single-line-5mb", _utf8(page(body=STORY + "<p>" + (LEAD * 25_000)[:1_700_000]
                                        + "</p>"))
    yield "many-scripts", _utf8(page(
        head="<script>var a=1;</script><style>p{}</style>" * 50_000, body=STORY))
    yield "many-h1", _utf8(page(body=STORY + f"<h1>{TITLE}</h1>" * 50_000))
    yield "1m-br", _utf8(page(body=STORY + "<br>" * 1_000_000))
    yield "600k-empty-elements", _utf8(page(body=STORY + "<i></i>" * 600_000))
    yield "long-url", _utf8(page(
        head=f"<link rel=\"canonical\" href=\"{LONG_URL}\">",
        body=STORY + f"<p><a href=\"{LONG_URL}\">{LONG_URL}</a></p>"))


def _text_pages() -> Iterator[tuple[str, bytes]]:
    yield "digit-runs", _utf8(page(body=STORY + "<p>" + "2025" * 250_000 + "</p><p>"
                                   + "1" * 500_000 + "元</p>"))
    yield "date-runs", _utf8(page(body=STORY + "<p>发布时间：" + "2099-04-10 " * 100_000
                                  + "</p><p>" + "2025年4月10日" * 50_000 + "</p>"))
    yield "book-title-unclosed", _utf8(page(body=STORY + "<p>" + "《兰州" * 200_000 + "</p>"))
    yield "signer-lines", _utf8(page(body=STORY + f"<p>{han_run(30_000)}</p><p>2025年4月10日</p>"
                                     * 3, info=""))
    ws = "\u2004\u2005\u2006\u2007\u2008\u200a\u202f\u205f\x85\u1680"
    yield "exotic-whitespace", _utf8(page(
        title="兰州" + ws * 3_000 + "—" + ws * 3_000 + "人民网",
        body=STORY + "<p>（" + ws * 5_000 + "记者" + ws * 5_000 + "张三</p>"
             + "<p>兰州" + ws * 10_000 + "，</p>" + "<p>编辑" + ws * 10_000 + "x</p>"))
    yield "ascii-whitespace", _utf8(page(body=STORY + "<p>" + " \t\r\n" * 250_000 + "</p>"
                                         + "<pre>" + " " * 500_000 + "x</pre>"))
    yield "pinyin-soup", _utf8(page(body=STORY + "<p>" + "兰?(chuàng)州？(lán)" * 20_000
                                    + "</p>"))
    yield "spam-tail", _utf8(page(body=STORY + "<p>" + LEAD + "无码，人妻，av，" * 50_000
                                  + "</p>"))
    yield "title-spaces-then-word", _utf8(page(title="兰州" + "\u3000" * 30_000 + "x"))
    yield "title-dash-runs", _utf8(page(title=("—" * 30 + "a") * 1_000))


def _byte_pages() -> Iterator[tuple[str, bytes]]:
    article = _utf8(page(title=TITLE + "\x1b[31m\x07", body=STORY))
    yield "nul-bytes", article.replace("，".encode(), b"\x00\xef\xbc\x8c\x00")
    yield "esc-bel", _utf8(page(
        title=f"\x1b[1;31m{TITLE}\x1b[0m\x07",
        body="<p>\x1b]0;owned\x07" + LEAD + "\x07\x1b[2J\x1b[H</p>" + STORY
             + "<p>\x1b" * 2_000 + "</p>"))
    rng = random.Random(11)
    broken = bytearray(_utf8(page(body=STORY * 200)))
    for _ in range(20_000):
        broken[rng.randrange(len(broken))] = rng.choice((0x80, 0xC0, 0xE5, 0xFF, 0xF8))
    yield "broken-utf8", bytes(broken)
    gb = bytearray(page(body=STORY * 200, charset="gb2312").encode("gb18030"))
    for _ in range(500):
        gb[rng.randrange(len(gb))] = rng.choice((0x81, 0xFE, 0x30, 0xFF))
    yield "broken-gb18030", bytes(gb)
    yield "undeclared-noise", bytes(rng.randrange(256) for _ in range(400_000))


def hostile_pages() -> Iterator[tuple[str, bytes]]:
    """(name, raw page bytes) for every hostile page, in a fixed order."""
    yield from _issue_pages()
    yield from _structure_pages()
    yield from _text_pages()
    yield from _byte_pages()


def url_for(name: str) -> str:
    """The URL a hostile page is fetched from (the long-url page has a very long one)."""
    return LONG_URL if name == "long-url" else DEFAULT_URL
