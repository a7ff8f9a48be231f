"""lznews.raw-page/1 dict -> lznews.article/1 dict, every step pure (no I/O, no network).

Stage order: decode -> extract -> repair -> convert -> clean (boilerplate rules; errors
reported as stage "extract") -> metadata -> entities -> dedup (fingerprints; errors reported as
"entities"). Anything unexpected inside a stage becomes a StageError naming that stage, so
the worker can dead-letter every failure with a stage and a reason.

Work per page is bounded: the page is cut to MAX_PAGE_BYTES, the text the later stages read to
MAX_PAGE_LINES / MAX_BODY_CHARS, and each rule bounds what it reads (see metadata, entities,
repair). A long real document is kept, truncated, and the quality counters say so.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lznews_common.models import article_id
from lznews_common.urls import canonical_url

from . import PIPELINE_VERSION
from .convert import convert
from .decode import Decoded, decode, unescape_entities
from .dedup import content_hash, simhash, simhash_hex
from .entities import Tagger, extract_entities
from .errors import NotAnArticle, StageError
from .extract import (
    MAX_DEPTH,
    MAX_ELEMENTS,
    Cleaned,
    Parsed,
    anchor_han_ratio,
    cap_lines,
    clean_lines,
    cut_elements,
    extract_main,
    han_count,
    has_prose,
    html_lines,
    is_info_line,
    looks_like_listing,
    parse_page,
)
from .metadata import extract_metadata, extract_title
from .repair import Budget, RepairStats, repair_lines, repair_text

ARTICLE_SCHEMA = "lznews.article/1"
# Fewer Han characters than this in the clean body: not an article. Two-sentence briefs and
# short notices are real news, so the bar is low; listings are caught by link density.
MIN_HAN = 30
# Bounds on what one page may make the stages read. Articles are far smaller; a longer page is
# truncated (and counted in its quality counters), not lost: monitoring wants a very long real
# document indexed, if only in part.
MAX_PAGE_BYTES = 4 * 1024 * 1024  # raw HTML, once inline scripts, styles, data: URIs go
MAX_PAGE_LINES = 5_000  # page text lines that metadata rules read (real pages: under 2,000)
MAX_PAGE_CHARS = 300_000
MAX_BODY_LINES = 5_000  # the article text handed to repair, conversion, cleaning and tagging
MAX_BODY_CHARS = 200_000  # a 100,000-character government plan fits
_BULK_OPEN = re.compile(rb"<(script|style)\b|data:[\w/+.-]+;base64,[\w+/=]+", re.I)
_BULK_CLOSE = {tag: re.compile(rb"</" + tag + rb"\s*>", re.I) for tag in (b"script", b"style")}
# A quoted attribute value over 64 KB (inlined JSON, SVG, junk): no text or metadata is in it.
_HUGE_ATTRIBUTE = re.compile(rb"""=\s*(?:"[^"]{65536,}"|'[^']{65536,}')""")
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


def strip_bulk(data: bytes) -> bytes:
    """Drop inline <script>/<style> elements, data: URIs and huge attribute values, the usual
    bulk of a huge page.

    One forward scan (a lazy `<script.*?</script>` regex rescans the rest of the page for each
    unclosed <script>); an unclosed element runs to the end of the page, as a browser reads it.
    """
    out, pos = [], 0
    while m := _BULK_OPEN.search(data, pos):
        out.append(data[pos:m.start()])
        if m.group(1) is None:  # a data: URI, matched whole
            pos = m.end()
            continue
        closer = _BULK_CLOSE[m.group(1).lower()].search(data, m.end())
        if closer is None:
            pos = len(data)
            break
        pos = closer.end()
    out.append(data[pos:])
    return _HUGE_ATTRIBUTE.sub(b'=""', b"".join(out))


def truncate_page(data: bytes, limit: int) -> bytes:
    """The first `limit` bytes or fewer, cut where no tag or character is split: before a '<',
    after a '>' or a space (bytes no multi-byte encoding uses inside a character), else at a
    UTF-8 character boundary."""
    if len(data) <= limit:
        return data
    lo = max(0, limit - 65_536)
    cut = max(data.rfind(b"<", lo, limit), data.rfind(b">", lo, limit) + 1,
              data.rfind(b" ", lo, limit) + 1, data.rfind(b"\n", lo, limit) + 1)
    if cut <= lo:
        cut = limit
        while cut > lo and 0x80 <= data[cut] < 0xC0:  # a UTF-8 continuation byte
            cut -= 1
    return data[:cut]


@dataclass
class _Trimmed:
    """What the bounds cut from one page, for its quality counters."""

    page_bytes: int = 0
    elements: int = 0
    body_chars: int = 0
    depth: bool = False


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
    trimmed = _Trimmed()

    with stage("decode"):
        status = raw.get("http_status", 200) if isinstance(raw, dict) else None
        data = _raw_bytes(raw)
        if isinstance(status, int) and not 200 <= status < 300:
            raise NotAnArticle(f"http status {status}", stage="decode")
        if len(data) > MAX_PAGE_BYTES:
            data = strip_bulk(data)
        if len(data) > MAX_PAGE_BYTES:
            size = len(data)
            data = truncate_page(data, MAX_PAGE_BYTES)
            trimmed.page_bytes = size - len(data)
        if not data.strip():
            raise NotAnArticle("empty body", stage="decode")
        headers = raw.get("headers") or {}
        ctype = headers.get("content-type") if isinstance(headers, dict) else None
        decoded = decode(data, ctype)
        diag.update(encoding=decoded.encoding, encoding_method=decoded.method)

    with stage("extract"):
        text, parsed = _parse(decoded.text, trimmed)
        root = parsed.root
        parser_fffd = _parser_replacements(text, parsed)
        all_lines = html_lines(root)
        page_raw, _ = cap_lines(all_lines, MAX_PAGE_LINES, MAX_PAGE_CHARS)
        extracted = extract_main(text, root, MIN_HAN, parsed.elements)
        lines, trimmed.body_chars = cap_lines(extracted.lines, MAX_BODY_LINES, MAX_BODY_CHARS)
        lines, unescape_fffd = _unescape(lines)
        diag["extractor"] = extracted.extractor
        if looks_like_listing(lines):
            raise NotAnArticle("listing page: most lines are dated links")
        ratio = anchor_han_ratio(root, all_lines)
        if ratio > MAX_ANCHOR_RATIO and not has_prose(lines, root):
            raise NotAnArticle(f"listing page: {ratio:.0%} of the text is links")
        _check_length(han_count("".join(lines)), parsed, "")

    with stage("repair"):
        lines, rstats = repair_lines(lines)
        page_fixed, _ = repair_lines(page_raw)

    with stage("convert"):
        converted = convert("\n".join(lines))
        script = converted.original_script
        lines = converted.text.split("\n")
        page = convert("\n".join(page_fixed), script=script).text.split("\n")
        fix_budget = Budget()  # one page's worth of guesses for all the strings read from tags

        def fix(s: str) -> str:
            return convert(repair_text(s, budget=fix_budget)[0], script=script).text.strip()

    with stage("metadata"):
        title = extract_title(root, fix)

    with stage("clean"):
        cleaned = clean_lines(lines, title)
        body = "\n".join(cleaned.body)
        han = han_count(body)
        _check_length(han, parsed, " after cleaning")

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
        "quality": _quality(decoded, parser_fffd + unescape_fffd, rstats, cleaned, han,
                            trimmed),
        "content_hash": chash,
        "simhash": shash,
    }


def _title_from_body(body: list[str]) -> str:
    if body and len(body[0]) <= 60:
        return body[0]
    raise NotAnArticle("no title found", stage="metadata")


def _parse(text: str, trimmed: _Trimmed) -> tuple[str, Parsed]:
    """The page parsed, with at most MAX_ELEMENTS elements: scripts and styles go first, then
    whatever follows the last element allowed. Returns the text that was parsed too."""
    parsed = parse_page(text)
    if parsed.elements > MAX_ELEMENTS:  # strip_bulk only cuts at ASCII: UTF-8 round-trips
        text = strip_bulk(text.encode("utf-8")).decode("utf-8")
        parsed = parse_page(text)
    if parsed.elements > MAX_ELEMENTS:
        text = cut_elements(text)
        before, parsed = parsed.elements, parse_page(text)
        trimmed.elements = before - parsed.elements  # counted: these may have held text
    trimmed.depth = parsed.depth_cut is not None
    return text, parsed


def _check_length(han: int, parsed: Parsed, when: str) -> None:
    if han >= MIN_HAN:
        return
    if parsed.depth_cut:  # the text was lost to the parser, not missing from the page
        raise StageError("extract", f"HTML nested deeper than {MAX_DEPTH} elements: the parser "
                         f"stopped at {parsed.depth_cut} and dropped the rest of the page; "
                         f"{han} Han characters{when} before that point")
    raise NotAnArticle(f"too little text{when}: {han} Han characters")


def _parser_replacements(text: str, parsed: Parsed) -> int:
    """U+FFFD that libxml2 put in the text (for &#0;, surrogate and out-of-range references):
    the ones in the tree beyond those already in the decoded page."""
    if "&#" not in text:  # controls are stripped before parsing: references are the only source
        return 0
    in_tree = sum(t.count("\ufffd") for t in parsed.root.itertext())
    return max(0, in_tree - text.count("\ufffd"))


def _unescape(lines: list[str]) -> tuple[list[str], int]:
    """Entities left in extracted text unescaped; and the U+FFFD that made (&amp;#xD800;)."""
    out, added = [], 0
    for line in lines:
        new = unescape_entities(line)
        if new is not line:
            added += max(0, new.count("\ufffd") - line.count("\ufffd"))
        out.append(new)
    return out, added


def _quality(decoded: Decoded, parser_fffd: int, r: RepairStats, cleaned: Cleaned,
             han: int, trimmed: _Trimmed) -> dict[str, int]:
    return {
        "pinyin_annotations": r.pinyin_annotations,
        "boilerplate_lines": cleaned.boilerplate_lines,
        "mojibake_fragments": r.mojibake_fragments,
        "mojibake_repaired": r.mojibake_repaired,
        "spam_blocks": cleaned.spam_blocks,
        "metadata_lines": len(cleaned.meta_lines),
        "title_lines": cleaned.title_lines,
        "replacement_chars": decoded.replacements + parser_fffd,
        "ncr_resolved": decoded.ncr_resolved,
        "spacing_fixes": r.spacing_fixes,
        "body_han_chars": han,
        "control_chars": decoded.control_chars + r.control_chars,
        "truncated_bytes": trimmed.page_bytes,
        "truncated_elements": trimmed.elements,
        "truncated_chars": trimmed.body_chars,
        "depth_truncated": int(trimmed.depth),
    }
