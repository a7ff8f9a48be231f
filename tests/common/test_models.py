"""The message contracts reject malformed input with one error type and a useful reason."""

from __future__ import annotations

import base64
import json

import pytest

from lznews_common.models import Article, DeadLetter, MessageError, RawPage, article_id


def _raw(**over) -> dict:
    raw = {
        "schema": "lznews.raw-page/1",
        "url": "http://gansu.people.com.cn/n2/2020/0522/c1.html",
        "final_url": "http://gansu.people.com.cn/n2/2020/0522/c1.html",
        "site": "people_gansu",
        "fetched_at": "2026-11-27T01:02:03Z",
        "http_status": 200,
        "headers": {
            "content-type": "text/html; charset=GB2312",
            "last-modified": None,
            "etag": None,
        },
        "body_b64": base64.b64encode("蘭州".encode("gb18030")).decode(),
        "crawl_id": "c1",
    }
    raw.update(over)
    return raw


def test_raw_page_round_trip_keeps_bytes() -> None:
    page = RawPage.parse(json.dumps(_raw()).encode())
    assert page.body.decode("gb18030") == "蘭州"
    assert page.headers.content_type == "text/html; charset=GB2312"
    again = RawPage.parse(page.to_bytes())
    assert again == page
    assert json.loads(page.to_bytes())["schema"] == "lznews.raw-page/1"


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"\xff\xfe not json", "not JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (json.dumps(_raw(body_b64="***")).encode(), "body_b64"),
        (json.dumps(_raw(fetched_at="2026-11-27T01:02:03")).encode(), "time zone"),
        (json.dumps(_raw(http_status=999)).encode(), "http_status"),
        (json.dumps(_raw(schema="lznews.raw-page/2")).encode(), "schema is"),
        (json.dumps({k: v for k, v in _raw().items() if k != "url"}).encode(), "url"),
    ],
)
def test_malformed_raw_pages_raise_message_error(data: bytes, reason: str) -> None:
    with pytest.raises(MessageError) as err:
        RawPage.parse(data)
    assert reason in str(err.value)


def test_article_rejects_bad_id_and_unknown_fields() -> None:
    url = "http://www.lanzhou.gov.cn/art/2017/6/7/art_1.html"
    good = {
        "id": article_id(url),
        "url": url,
        "canonical_url": url,
        "site": "lanzhou_gov",
        "title": "兰州市人民政府办公厅通知",
        "published_at": "2017-05-19T00:00:00+08:00",
        "body": "各县、区人民政府",
        "original_script": "hans",
        "fetched_at": "2026-11-27T01:02:03Z",
        "normalized_at": "2026-11-27T01:02:04Z",
        "pipeline_version": "1",
        "content_hash": "a",
        "simhash": "b",
        "entities": {"amounts": [{"text": "1亿元", "value_cny": 100000000}]},
    }
    article = Article.parse(good)
    assert article.entities.amounts[0].value_cny == 100_000_000
    assert "schema_" not in article.to_document()
    with pytest.raises(MessageError, match="id"):
        Article.parse({**good, "id": "xyz"})
    with pytest.raises(MessageError, match="Extra inputs"):
        Article.parse({**good, "colour": "red"})
    with pytest.raises(MessageError, match="original_script"):
        Article.parse({**good, "original_script": "latin"})


def test_dead_letter_keeps_original_value() -> None:
    letter = DeadLetter.build(
        stage="decode",
        error=ValueError("bad bytes"),
        value=b"\x00\x01",
        topic="raw-pages",
        partition=2,
        offset=7,
    )
    back = DeadLetter.parse(letter.to_bytes())
    assert back.original_value == b"\x00\x01"
    assert (back.error_type, back.original_offset) == ("ValueError", 7)
