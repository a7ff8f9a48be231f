"""lznews.raw-page/1 dict -> lznews.article/1 dict, every step pure (no I/O, no network).

Stage order: decode -> extract -> repair -> convert -> clean (boilerplate rules; errors
reported as stage "extract") -> metadata -> entities -> dedup (fingerprints; errors reported as
"entities"). Anything unexpected inside a stage becomes a StageError naming that stage, so
the worker can dead-letter every failure with a stage and a reason.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from lznews_common.models import article_id
from lznews_common.urls import canonical_url

from . import PIPELINE_VERSION
from .convert import convert
from .decode import decode, unescape_entities
from .dedup import content_hash, simhash, simhash_hex
from .entities import Tagger, extract_entities
from .errors import NotAnArticle, StageError
from .extract import (
    Cleaned,
    anchor_han_ratio,
    clean_lines,
    extract_main,
    han_count,
    has_prose,
    html_lines,
    is_info_line,
    looks_like_listing,
    parse_html,
)
from .metadata import extract_metadata, extract_title
from .repair import RepairStats, repair_lines, repair_text

ARTICLE_SCHEMA = "lznews.article/1"
# Fewer Han characters than this in the clean body: not an article. Two-sentence briefs and
# short notices are real news, so the bar is low; listings are caught by link density.
MIN_HAN = 30
MAX_PAGE_BYTES = 4 * 1024 * 1024  # articles are far smaller; bounds worst-case latency
_BULK = re.compile(
    rb"<script\b.*?</script\s*>|<style\b.*?</style\s*>|data:[\w/+.-]+;base64,[\w+/=]+",
    re.I | re.S,
)
MAX_ANCHOR_RATIO = 0.6  # listing pages are mostly link text
_ERROR_STAGE = {"clean": "extract", "dedup": "entities"}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class _Stages:
    """Times each stage and turns unexpected exceptions into StageError(stage, ...)."""

    def __init__(self, timings: dict[str, float] | None,
                 on_stage: Callable[[str, float], None] | None) -> None:
        self.timings = timings if timings is not None else {}
        self.on_stage = on_stage

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        except StageError:
            raise
        except Exception as exc:  # noqa: BLE001 - any bug or library failure is dead-lettered
            raise StageError(_ERROR_STAGE.get(name, name),
                             f"{type(exc).__name__}: {str(exc)[:300]}") from exc
        finally:
            elapsed = time.perf_counter() - start
            self.timings[name] = self.timings.get(name, 0.0) + elapsed
            if self.on_stage:
                self.on_stage(name, elapsed)


def _raw_bytes(raw: dict[str, Any]) -> bytes:
    if not isinstance(raw, dict):
        raise StageError("decode", f"raw page is {type(raw).__name__}, not a dict")
    body = raw.get("body_b64")
    if not isinstance(body, str):
        raise StageError("decode", "body_b64 missing")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise StageError("decode", f"body_b64 is not base64: {exc}") from exc


def normalize(
    raw: dict[str, Any],
    timings: dict[str, float] | None = None,
    *,
    tagger: Tagger | None = None,
    on_stage: Callable[[str, float], None] | None = None,
    diagnostics: dict[str, Any] | None = None,
    normalized_at: str | None = None,
    canonical: str | None = None,
) -> dict[str, Any]:
    """Normalise one lznews.raw-page/1 dict into a lznews.article/1 dict.

    timings: filled with seconds per stage (decode, extract, repair, convert, clean,
    metadata, entities, dedup); on_stage is called after each stage with (name, seconds).
    diagnostics: filled with non-numeric facts (encoding, how it was chosen, extractor).
    canonical: the page's canonical URL as the crawler keyed it on raw-pages (it knows each
    site's gateway rewrites); without it, the canonical form of the raw page's url.
    Raises NotAnArticle for pages that are not articles and StageError for anything else.
    """
    stage = _Stages(timings, on_stage)
    diag = diagnostics if diagnostics is not None else {}

    with stage("decode"):
        status = raw.get("http_status", 200) if isinstance(raw, dict) else None
        data = _raw_bytes(raw)
        if isinstance(status, int) and not 200 <= status < 300:
            raise NotAnArticle(f"http status {status}", stage="decode")
        if len(data) > MAX_PAGE_BYTES:
            data = _BULK.sub(b"", data)  # inline scripts, styles and data: URIs are the usual bulk
        if len(data) > MAX_PAGE_BYTES:
            raise StageError("decode", f"page too large: {len(data)} bytes > {MAX_PAGE_BYTES}")
        if not data.strip():
            raise NotAnArticle("empty body", stage="decode")
        headers = raw.get("headers") or {}
        ctype = headers.get("content-type") if isinstance(headers, dict) else None
        decoded = decode(data, ctype)
        diag.update(encoding=decoded.encoding, encoding_method=decoded.method)

    with stage("extract"):
        root = parse_html(decoded.text)
        page_raw = html_lines(root)
        extracted = extract_main(decoded.text, root, MIN_HAN)
        lines = [unescape_entities(ln) for ln in extracted.lines]
        diag["extractor"] = extracted.extractor
        if looks_like_listing(lines):
            raise NotAnArticle("listing page: most lines are dated links")
        ratio = anchor_han_ratio(root)
        if ratio > MAX_ANCHOR_RATIO and not has_prose(lines, root):
            raise NotAnArticle(f"listing page: {ratio:.0%} of the text is links")
        if han_count("".join(lines)) < MIN_HAN:
            raise NotAnArticle(f"too little text: {han_count(''.join(lines))} Han characters")

    with stage("repair"):
        lines, rstats = repair_lines(lines)
        page_fixed, _ = repair_lines(page_raw)

    with stage("convert"):
        converted = convert("\n".join(lines))
        script = converted.original_script
        lines = converted.text.split("\n")
        page = convert("\n".join(page_fixed), script=script).text.split("\n")

        def fix(s: str) -> str:
            return convert(repair_text(s)[0], script=script).text.strip()

    with stage("metadata"):
        title = extract_title(root, fix)

    with stage("clean"):
        cleaned = clean_lines(lines, title)
        body = "\n".join(cleaned.body)
        han = han_count(body)
        if han < MIN_HAN:
            raise NotAnArticle(f"too little text after cleaning: {han} Han characters")

    with stage("metadata"):
        info = cleaned.meta_lines + [ln for ln in page if is_info_line(ln)]
        url = raw.get("final_url") or raw.get("url") or ""
        meta = extract_metadata(root, page, info, cleaned.body, url, fix)
        title = meta.title or _title_from_body(cleaned.body)

    with stage("entities"):
        entities = extract_entities(body, tagger, known_people=meta.authors)

    with stage("dedup"):
        chash = content_hash(body)
        shash = simhash_hex(simhash(body))

    canonical = canonical_url(canonical or raw.get("url") or url)
    return {
        "schema": ARTICLE_SCHEMA,
        "id": article_id(canonical),
        "url": raw.get("url") or url,
        "canonical_url": canonical,
        "site": raw.get("site") or "",
        "title": title,
        "published_at": meta.published_at,
        "source": meta.source,
        "authors": meta.authors,
        "editors": meta.editors,
        "doc_number": meta.doc_number,
        "body": body,
        "original_script": script,
        "fetched_at": raw.get("fetched_at"),
        "normalized_at": normalized_at or _now(),
        "pipeline_version": PIPELINE_VERSION,
        "entities": entities.as_dict(),
        "quality": _quality(decoded.replacements, decoded.ncr_resolved, rstats, cleaned, han),
        "content_hash": chash,
        "simhash": shash,
    }


def _title_from_body(body: list[str]) -> str:
    if body and len(body[0]) <= 60:
        return body[0]
    raise NotAnArticle("no title found", stage="metadata")


def _quality(replacements: int, ncrs: int, r: RepairStats, cleaned: Cleaned,
             han: int) -> dict[str, int]:
    return {
        "pinyin_annotations": r.pinyin_annotations,
        "boilerplate_lines": cleaned.boilerplate_lines,
        "mojibake_fragments": r.mojibake_fragments,
        "mojibake_repaired": r.mojibake_repaired,
        "spam_blocks": cleaned.spam_blocks,
        "metadata_lines": len(cleaned.meta_lines),
        "title_lines": cleaned.title_lines,
        "replacement_chars": replacements,
        "ncr_resolved": ncrs,
        "spacing_fixes": r.spacing_fixes,
        "body_han_chars": han,
    }
