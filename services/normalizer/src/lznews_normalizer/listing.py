"""Listing pages (index pages of dated links), told from articles before any cleaning."""

from __future__ import annotations

import re

from lxml import html

from .han import han_count
from .parse import html_lines

PROSE_HAN = 60  # a paragraph this long outside links is article prose, not a listing item


def has_prose(lines: list[str], root: html.HtmlElement) -> bool:
    """A main-text paragraph of PROSE_HAN+ Han characters that is not a link's text. Listing
    items are headlines (rarely over 40 characters); a short notice on a portal page heavy with
    links still has one such paragraph."""
    long_lines = {re.sub(r"\s+", "", ln) for ln in lines if han_count(ln) >= PROSE_HAN}
    if not long_lines:
        return False
    # An anchor with more text than any line (before its spaces go) is none of them: stop
    # reading it there, or links nested in links read the page once per level.
    limit = 4 * max(map(len, long_lines)) + 1_000
    anchors = {re.sub(r"\s+", "", t) for a in root.iter("a") if (t := _text_upto(a, limit))}
    return any(ln not in anchors for ln in long_lines)


def _text_upto(el: html.HtmlElement, limit: int) -> str | None:
    """el.text_content(), or None once it is longer than `limit`."""
    parts, size = [], 0
    for part in el.itertext():
        size += len(part)
        if size > limit:
            return None
        parts.append(part)
    return "".join(parts)


def anchor_han_ratio(root: html.HtmlElement, lines: list[str] | None = None) -> float:
    """Share of the page's Han characters that sit inside links (listing pages are mostly links).
    `lines`: html_lines(root), if already made (the same lines as the <body>'s)."""
    body = root.find("body")
    scope = body if body is not None else root
    total = han_count(" ".join(lines if lines is not None else html_lines(scope)))
    if not total:
        return 0.0
    # Links nest (through other elements): the outermost ones hold all linked text, once.
    linked = sum(han_count(a.text_content()) for a in scope.iter("a")
                 if next(a.iterancestors("a"), None) is None)
    return linked / total


def looks_like_listing(lines: list[str]) -> bool:
    """Many short lines that each end (or start) with a date: an index page, not an article."""
    if len(lines) < 5:
        return False
    dated = sum(
        1 for ln in lines
        if len(ln) <= 60 and (re.search(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\)?\]?$", ln)
                              or re.match(r"^\[?\(?\d{4}[-/.]\d{1,2}[-/.]\d{1,2}", ln))
    )
    return dated >= 5 and dated / len(lines) >= 0.5
