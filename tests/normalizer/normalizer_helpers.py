"""Helpers for the normaliser tests: fixture pages and raw-page dicts."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from bench import hostile_corpus

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "articles"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text("utf-8"))
PAGES = {p["file"]: p for p in MANIFEST["pages"]}


def raw_page(body: bytes, url: str = "http://www.lzbs.com.cn/lanzhounews/2025-04/10/c.htm",
             content_type: str | None = None, site: str = "lzbs",
             status: int = 200) -> dict[str, Any]:
    return {
        "url": url,
        "final_url": url,
        "site": site,
        "fetched_at": "2026-01-02T03:04:05Z",
        "http_status": status,
        "headers": {"content-type": content_type, "last-modified": None, "etag": None},
        "body_b64": base64.b64encode(body).decode("ascii"),
        "crawl_id": "test",
    }


def utf8_page(**kw: Any) -> dict[str, Any]:
    """A page of the hostile corpus (bench.hostile_corpus.page), sent as UTF-8."""
    return raw_page(hostile_corpus.page(**kw).encode("utf-8"),
                    content_type="text/html; charset=utf-8")


def fixture_raw(name: str) -> dict[str, Any]:
    page = PAGES[name]
    return raw_page((FIXTURES / name).read_bytes(), page["url"], page["content_type"],
                    page["site"])
