"""Bytes -> str with the charset rules Chinese news sites need.

Order: BOM, HTTP header charset, <meta> charset, then detection. GB2312/GBK labels are decoded
as GB18030 because sites declare gb2312 but serve GBK (traditional characters, e.g. 蘭).
"""

from __future__ import annotations

import codecs
import html
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

from .repair import strip_controls

# Labels that sites use for a narrower charset than the bytes really need.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "hz-gb-2312": "gb18030",
    "big5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "cp950": "big5hkscs",
    "ascii": "utf-8",
    "us-ascii": "utf-8",
}
# Server defaults that rarely describe a Chinese page; a <meta> declaration wins over them.
_WEAK_HEADER = {"iso8859-1", "latin-1", "cp1252", "windows-1252"}

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_META_CHARSET = re.compile(
    rb"<meta[^>]+?charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I | re.S
)
# Numeric references to non-ASCII characters only: &#60; must stay markup-escaped.
_NCR = re.compile(r"&#(?:[xX]([0-9a-fA-F]{2,6})|([0-9]{3,7}));")
_DETECT_BYTES = 200_000


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # Python codec name actually used
    method: str  # bom | header | meta | detected | fallback
    replacements: int  # undecodable byte sequences replaced by U+FFFD
    ncr_resolved: int  # &#NNNN; references turned into characters
    control_chars: int = 0  # control characters and terminal escape sequences removed


def normalize_label(label: str | None) -> str | None:
    """Map a charset label to a Python codec name (with the superset rules), or None."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _SUPERSETS.get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _SUPERSETS.get(name, name)


def header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _HEADER_CHARSET.search(content_type)
    return normalize_label(m.group(1)) if m else None


def meta_charset(data: bytes) -> str | None:
    m = _META_CHARSET.search(data[:8192])
    return normalize_label(m.group(1).decode("ascii", "replace")) if m else None


def resolve_ncrs(text: str) -> tuple[str, int]:
    """Turn numeric character references to non-ASCII characters into characters.

    Big5 pages carry characters Big5 lacks (産, 綫, ...) as &#29987; etc.; resolving them early
    keeps them when a later step handles text outside an HTML parser.
    """
    count = 0

    def sub(m: re.Match[str]) -> str:
        nonlocal count
        cp = int(m.group(1), 16) if m.group(1) else int(m.group(2))
        if cp < 0x80 or cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
            return m.group(0)
        count += 1
        return chr(cp)

    return _NCR.sub(sub, text), count


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _lenient(data: bytes, encoding: str) -> tuple[str, int]:
    text = data.decode(encoding, errors="replace")
    return text, text.count("\ufffd")


def _detect(data: bytes) -> str | None:
    if _strict(data, "utf-8") is not None:
        return "utf-8"
    best = from_bytes(data[:_DETECT_BYTES]).best()
    return normalize_label(best.encoding) if best is not None else None


def decode(data: bytes, content_type: str | None = None) -> Decoded:
    """Decode page bytes; never raises on bad bytes (they become U+FFFD and are counted).
    Control characters and terminal escapes are removed (and counted)."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            text, bad = _lenient(data[len(bom) :], enc)
            return _finish(text, enc, "bom", bad)

    candidates: list[tuple[str, str]] = []
    hdr = header_charset(content_type)
    meta = meta_charset(data)
    if hdr and not (hdr in _WEAK_HEADER and meta):
        candidates.append((hdr, "header"))
    if meta:
        candidates.append((meta, "meta"))
    if hdr and hdr in _WEAK_HEADER and meta:
        candidates.append((hdr, "header"))

    for enc, method in candidates:
        text = _strict(data, enc)
        if text is not None:
            return _finish(text, enc, method, 0)
        if enc == "big5hkscs":  # some Big5 pages use cp950-only code points
            text = _strict(data, "cp950")
            if text is not None:
                return _finish(text, "cp950", method, 0)

    detected = _detect(data)
    if detected:
        text, bad = _lenient(data, detected)
        # A declared charset that only fails on a few bytes beats a shaky detection.
        for enc, method in candidates:
            t2, b2 = _lenient(data, enc)
            if b2 <= bad:
                return _finish(t2, enc, method, b2)
        return _finish(text, detected, "detected", bad)

    if candidates:
        enc, method = min(candidates, key=lambda c: _lenient(data, c[0])[1])
        text, bad = _lenient(data, enc)
        return _finish(text, enc, method, bad)
    text, bad = _lenient(data, "utf-8")
    return _finish(text, "utf-8", "fallback", bad)


def _finish(text: str, encoding: str, method: str, bad: int) -> Decoded:
    # Controls go before parsing: libxml2 turns NUL into U+FFFD and keeps ESC/BEL in the text.
    text, controls = strip_controls(text)
    text, ncrs = resolve_ncrs(text)
    return Decoded(text, encoding, method, bad, ncrs, controls)


def unescape_entities(text: str) -> str:
    """Unescape HTML entities left in already-extracted text (double-escaped pages)."""
    return html.unescape(text) if "&" in text else text
