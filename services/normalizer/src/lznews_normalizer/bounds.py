"""Bounds on the work one page may cause: the page is cut to MAX_PAGE_BYTES (inline bulk
first), its tree to MAX_ELEMENTS, and the text the later stages read to MAX_PAGE_LINES /
MAX_BODY_CHARS. A long real document is kept, truncated, and its quality counters say so."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .parse import MAX_ELEMENTS, Parsed, cut_elements, parse_page

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
class Trimmed:
    """What the bounds cut from one page, for its quality counters."""

    page_bytes: int = 0
    elements: int = 0
    body_chars: int = 0
    depth: bool = False


def parse_bounded(text: str, trimmed: Trimmed) -> tuple[str, Parsed]:
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
