from __future__ import annotations

import codecs

from lznews_normalizer.decode import decode, normalize_label, resolve_ncrs

from .normalizer_helpers import FIXTURES

TEXT = "蘭州市科技局堅持科技創新和制度創新“雙輪驅動”，產業發展。"


def test_bom_wins_over_header() -> None:
    d = decode(codecs.BOM_UTF8 + TEXT.encode("utf-8"), "text/html; charset=gbk")
    assert (d.text, d.encoding, d.method) == (TEXT, "utf-8", "bom")


def test_gb2312_label_decodes_gbk_bytes() -> None:
    # 蘭 is GBK, not GB2312: a strict gb2312 decoder would fail on real people.com.cn pages.
    d = decode(TEXT.encode("gbk"), "text/html; charset=GB2312")
    assert d.text == TEXT and d.encoding == "gb18030" and d.method == "header"
    assert d.replacements == 0


def test_meta_charset_used_without_header() -> None:
    page = f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">' \
           f"</head><body>{TEXT}</body></html>"
    d = decode(page.encode("gbk"), "text/html")
    assert d.method == "meta" and TEXT in d.text


def test_html5_meta_charset() -> None:
    d = decode(f'<meta charset="big5"><p>{TEXT}</p>'.encode("big5", "xmlcharrefreplace"))
    assert d.method == "meta" and d.encoding == "big5hkscs"


def test_big5_ncrs_survive() -> None:
    # 産 (U+7523) is not in Big5; the site writes &#29987;
    raw = "<p>産業</p>".encode("big5", "xmlcharrefreplace")
    assert b"&#29987;" in raw
    d = decode(b'<meta charset="big5">' + raw)
    assert "産業" in d.text and d.ncr_resolved == 1


def test_ncr_resolution_keeps_markup_escapes() -> None:
    text, n = resolve_ncrs("&#60;p&#62; &#x7523; &#29987;")
    assert text == "&#60;p&#62; 産 産" and n == 2


def test_detection_without_any_declaration() -> None:
    data = (FIXTURES / "008_lanzhou_gov_short_year_gbk.html").read_bytes()
    d = decode(data, None)
    assert d.method == "detected" and d.encoding == "gb18030"
    assert "榆中县召开2021年科技创新工作会议" in d.text


def test_wrong_header_falls_back_to_meta() -> None:
    data = (FIXTURES / "003_lzbs.html").read_bytes()
    d = decode(data, "text/html; charset=big5")
    assert d.encoding == "utf-8" and d.method == "meta" and "智能朗讀" in d.text


def test_latin1_header_is_weaker_than_meta() -> None:
    data = (FIXTURES / "003_lzbs.html").read_bytes()
    assert decode(data, "text/html; charset=ISO-8859-1").encoding == "utf-8"


def test_bad_bytes_are_counted_not_raised() -> None:
    data = TEXT.encode("utf-8") + b"\xff\xfe\xfa" + TEXT.encode("utf-8")
    d = decode(data, "text/html; charset=utf-8")
    assert d.replacements >= 1 and "\ufffd" in d.text and d.text.startswith(TEXT)


def test_unknown_label() -> None:
    assert normalize_label("x-no-such-charset") is None
    assert normalize_label("GBK") == "gb18030"
    assert normalize_label("big5") == "big5hkscs"
