"""The three systems compared (lznews, trafilatura, GNE), each reading one page into an Output."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gold import Page
from scoring import split_names

from lznews_normalizer.cli import guess_site
from lznews_normalizer.errors import NotAnArticle, StageError
from lznews_normalizer.pipeline import normalize


@dataclass
class Output:
    """One system's reading of one page; None in a list field = the system has no such field."""

    accepted: bool
    error: str | None = None  # why it was rejected, or what crashed
    title: str | None = None
    published_at: str | None = None
    source: str | None = None
    authors: list[str] | None = None
    editors: list[str] | None = None
    doc_number: str | None = None
    body: str = ""
    entities: dict[str, list[str]] | None = None
    crashed: bool = False


# --- the three systems ---------------------------------------------------------------------------


def run_lznews(page: Page) -> Output:
    url = page.gold.get("url") or ""
    raw = {
        "url": url, "final_url": url, "site": guess_site(url), "fetched_at": "2026-01-01T00:00:00Z",
        "http_status": 200, "headers": {"content-type": None, "last-modified": None, "etag": None},
        "body_b64": base64.b64encode(page.html).decode("ascii"), "crawl_id": "eval",
    }
    try:
        art = normalize(raw)
    except NotAnArticle as exc:
        return Output(False, error=f"not an article: {exc.reason}")
    except StageError as exc:
        return Output(False, error=f"failed in {exc.stage}: {exc.reason}", crashed=True)
    return Output(True, None, art["title"], art["published_at"], art["source"], art["authors"],
                  art["editors"], art["doc_number"], art["body"], art["entities"])


def run_trafilatura(page: Page) -> Output:
    import trafilatura

    doc = trafilatura.bare_extraction(page.text, url=page.gold.get("url"), with_metadata=True)
    data = doc.as_dict() if doc is not None else {}
    if not (data.get("text") or "").strip():
        return Output(False, error="no text extracted")
    # its sitename is the site's name or host, not a 来源 line: source is not scored
    return Output(True, None, data.get("title"), data.get("date"), None,
                  split_names(data.get("author")), body=data["text"])


_gne: Any = None


def run_gne(page: Page) -> Output:
    global _gne
    if _gne is None:
        from gne import GeneralNewsExtractor

        _gne = GeneralNewsExtractor()
    data = _gne.extract(page.text)
    return Output(True, None, data.get("title"), data.get("publish_time"), None,
                  split_names(data.get("author")), body=data.get("content") or "")


SYSTEMS: dict[str, Callable[[Page], Output]] = {
    "lznews": run_lznews, "trafilatura": run_trafilatura, "GNE": run_gne,
}
# Fields a system has no output for are left blank rather than scored as misses.
UNSUPPORTED = {
    "lznews": set(),
    "trafilatura": {"source", "editors", "doc_number", "entities"},
    "GNE": {"source", "editors", "doc_number", "entities"},
}
