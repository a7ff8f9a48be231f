"""lznews.raw-page/1 -> lznews.article/1: a RawPage in, an Article out (lznews_common.models),
every step pure (no I/O, no network).

Stage order: decode -> extract -> repair -> convert -> metadata (the headline) -> clean
(boilerplate rules, which drop the headline's lines; errors reported as stage "extract") ->
metadata (the fields read from the cleaned lines) -> entities -> dedup (fingerprints; errors
reported as "entities"). Anything unexpected inside a stage becomes a StageError naming that
stage, so the worker can dead-letter every failure with a stage and a reason.

Work per page is bounded (bounds.py), and each rule bounds what it reads (see titles, dates,
entities, repair).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from lznews_common.models import Article, MessageError, RawPage, article_id
from lznews_common.models import Entities as ArticleEntities
from lznews_common.urls import canonical_url

from . import PIPELINE_VERSION
from .boilerplate import Cleaned, clean_lines, is_info_line
from .bounds import (
    MAX_BODY_CHARS,
    MAX_BODY_LINES,
    MAX_PAGE_BYTES,
    MAX_PAGE_CHARS,
    MAX_PAGE_LINES,
    Trimmed,
    parse_bounded,
    strip_bulk,
    truncate_page,
)
from .convert import convert
from .decode import Decoded, decode, unescape_entities
from .dedup import content_hash, simhash, simhash_hex
from .entities import extract_entities
from .errors import NotAnArticle, OffContract, StageError
from .extract import extract_main
from .han import han_count
from .listing import anchor_han_ratio, has_prose, looks_like_listing
from .metadata import extract_metadata
from .parse import MAX_DEPTH, Parsed, cap_lines, html_lines
from .repair import Budget, RepairStats, repair_lines, repair_text
from .tagger import Tagger
from .titles import extract_title

# Fewer Han characters than this in the clean body: not an article. Two-sentence briefs and
# short notices are real news, so the bar is low; listings are caught by link density.
MIN_HAN = 30
MAX_ANCHOR_RATIO = 0.6  # listing pages are mostly link text
_ERROR_STAGE = {"clean": "extract", "dedup": "entities"}


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


def normalize_page(
    page: RawPage,
    timings: dict[str, float] | None = None,
    *,
    tagger: Tagger | None = None,
    on_stage: Callable[[str, float], None] | None = None,
    diagnostics: dict[str, Any] | None = None,
    normalized_at: datetime | str | None = None,
    canonical: str | None = None,
) -> Article:
    """Normalise one raw page into its article.

    timings: filled with seconds per stage (decode, extract, repair, convert, clean,
    metadata, entities, dedup); on_stage is called after each stage with (name, seconds).
    diagnostics: filled with non-numeric facts (encoding, how it was chosen, extractor).
    canonical: the page's canonical URL as the crawler keyed it on raw-pages (it knows each
    site's gateway rewrites); without it, the canonical form of the raw page's url.
    Raises NotAnArticle for pages that are not articles, StageError for anything else the page
    causes and OffContract for an article the contract refuses.
    """
    stage = _Stages(timings, on_stage)
    diag = diagnostics if diagnostics is not None else {}
    trimmed = Trimmed()

    with stage("decode"):
        data = page.body
        if not 200 <= page.http_status < 300:
            raise NotAnArticle(f"http status {page.http_status}", stage="decode")
        if len(data) > MAX_PAGE_BYTES:
            data = strip_bulk(data)
        if len(data) > MAX_PAGE_BYTES:
            size = len(data)
            data = truncate_page(data, MAX_PAGE_BYTES)
            trimmed.page_bytes = size - len(data)
        if not data.strip():
            raise NotAnArticle("empty body", stage="decode")
        decoded = decode(data, page.headers.content_type)
        diag.update(encoding=decoded.encoding, encoding_method=decoded.method)

    with stage("extract"):
        text, parsed = parse_bounded(decoded.text, trimmed)
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
        page_lines = convert("\n".join(page_fixed), script=script).text.split("\n")
        fix_budget = Budget()  # one page's worth of guesses for all the strings read from tags

        def fix(s: str) -> str:
            return convert(repair_text(s, budget=fix_budget)[0], script=script).text.strip()

    # The headline is read once, here: cleaning drops its repeats from the body, and the other
    # fields (below) are read from the lines cleaning sorts out.
    with stage("metadata"):
        title = extract_title(root, fix)

    with stage("clean"):
        cleaned = clean_lines(lines, title)
        body = "\n".join(cleaned.body)
        han = han_count(body)
        _check_length(han, parsed, " after cleaning")

    with stage("metadata"):
        info = cleaned.meta_lines + [ln for ln in page_lines if is_info_line(ln)]
        meta = extract_metadata(root, title, page_lines, info, cleaned.body, page.final_url,
                                fix)
        title = meta.title or _title_from_body(cleaned.body)

    with stage("entities"):
        entities = extract_entities(body, tagger, known_people=meta.authors, staff=meta.editors)

    with stage("dedup"):
        chash = content_hash(body)
        shash = simhash_hex(simhash(body))

    canonical = canonical_url(canonical or page.url)
    try:
        return Article(
            id=article_id(canonical),
            url=page.url,
            canonical_url=canonical,
            site=page.site,
            title=title,
            published_at=meta.published_at,
            source=meta.source,
            authors=meta.authors,
            editors=meta.editors,
            doc_number=meta.doc_number,
            body=body,
            original_script=script,
            fetched_at=page.fetched_at,
            normalized_at=normalized_at or datetime.now(UTC).replace(microsecond=0),
            pipeline_version=PIPELINE_VERSION,
            entities=ArticleEntities.model_validate(entities, from_attributes=True),
            quality=_quality(decoded, parser_fffd + unescape_fffd, rstats, cleaned, han,
                             trimmed),
            content_hash=chash,
            simhash=shash,
        )
    except ValidationError as exc:
        raise OffContract(f"{exc.error_count()} error(s): {str(exc)[:1000]}") from None


def normalize(raw: dict[str, Any], timings: dict[str, float] | None = None,
              **options: Any) -> dict[str, Any]:
    """normalize_page for callers that hold pages as JSON-shaped dicts (tests, eval, bench):
    the dict is read as a lznews.raw-page/1 message (one that is not raises StageError in
    decode) and the article returned as its lznews.article/1 dict."""
    try:
        page = RawPage.parse(raw)
    except MessageError as exc:
        raise StageError("decode", exc.reason) from None
    return normalize_page(page, timings, **options).model_dump(mode="json", by_alias=True)


def _title_from_body(body: list[str]) -> str:
    if body and len(body[0]) <= 60:
        return body[0]
    raise NotAnArticle("no title found", stage="metadata")


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
             han: int, trimmed: Trimmed) -> dict[str, int]:
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
