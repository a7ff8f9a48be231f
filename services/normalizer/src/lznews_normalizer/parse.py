"""Parsing a page and reading its text: the lxml tree (bounded in depth and element count), its
visible text as lines, and its <meta> values."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice

from lxml import etree, html

from .errors import StageError

# Every kind of whitespace but the newline (and zero-width spaces): a line never holds a run of
# spaces, which keeps each `\s*` in the line rules matching in constant time.
_SPACES = "".join(c for c in map(chr, range(0x3001)) if c.isspace() and c != "\n")
_WS = re.compile(f"[{re.escape(_SPACES)}\u200b\ufeff]+")
# Elements of a page that are read at all: each costs every walk over the tree (a 4 MB page of
# <br> is a million of them). Real pages have a few thousand; the rest of a page is cut off.
MAX_ELEMENTS = 100_000
_OPEN_TAG = re.compile(r"<[A-Za-z]")
_SKIP_TAGS = {"script", "style", "noscript", "template", "head", "select", "option", "iframe",
              "svg", "object", "embed", "textarea", "button", "form"}
_BLOCK_TAGS = {"p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "tr",
               "table", "section", "article", "header", "footer", "nav", "aside", "dd", "dt",
               "dl", "blockquote", "pre", "center", "hr", "main", "figure", "figcaption",
               "title", "tbody", "thead"}
_CELL_TAGS = {"td", "th"}


@dataclass(frozen=True)
class Parsed:
    root: html.HtmlElement
    depth_cut: str | None  # where libxml2's nesting limit stopped the parse, if it did
    elements: int


MAX_DEPTH = 256  # libxml2's nesting limit without XML_PARSE_HUGE


def parse_page(text: str) -> Parsed:
    """Parse leniently. libxml2 stops at MAX_DEPTH nested elements, which keeps hostile pages
    bounded but drops the rest of the page: `depth_cut` says where that happened."""
    if not text.strip():
        raise StageError("extract", "empty document")
    # Encoding declarations are meaningless on str input and make lxml refuse it.
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    parser = html.HTMLParser(remove_comments=True, remove_pis=True)
    try:
        root = html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError, etree.XMLSyntaxError) as exc:
        raise StageError("extract", f"unparseable HTML: {exc}") from exc
    if root is None:
        raise StageError("extract", "unparseable HTML")
    cut = next((f"line {e.line}, column {e.column}" for e in parser.error_log
                if "Excessive depth" in e.message), None)
    return Parsed(root, cut, int(root.xpath("count(//*)")))


def parse_html(text: str) -> html.HtmlElement:
    return parse_page(text).root


def cut_elements(text: str, limit: int = MAX_ELEMENTS) -> str:
    """`text` up to the start tag of element number `limit` + 1 (all of it if it has fewer)."""
    m = next(islice(_OPEN_TAG.finditer(text), limit, None), None)
    return text if m is None else text[: m.start()]


def cap_lines(lines: list[str], max_lines: int, max_chars: int) -> tuple[list[str], int]:
    """The first lines within both bounds (the last one cut to fit), and how many characters
    were left out."""
    out, size = [], 0
    for line in lines[:max_lines]:
        if size >= max_chars:
            break
        out.append(line[: max_chars - size])
        size += len(out[-1])
    return out, sum(map(len, lines)) - size


def norm_line(s: str) -> str:
    return _WS.sub(" ", s).strip()


def html_lines(root: html.HtmlElement) -> list[str]:
    """Visible text as lines: block elements break lines, table cells are joined by spaces.

    Iterative (iterwalk), so deeply nested pages cannot overflow the Python stack.
    """
    parts: list[str] = []
    walker = etree.iterwalk(root, events=("start", "end"))
    skipping = 0
    for event, el in walker:
        tag = el.tag if isinstance(el.tag, str) else ""
        tag = tag.lower()
        if event == "start":
            if tag in _SKIP_TAGS:
                walker.skip_subtree()
                skipping = 1
                continue
            if tag in _BLOCK_TAGS:
                parts.append("\n")
            elif tag in _CELL_TAGS:
                parts.append(" ")
            if el.text:
                parts.append(el.text)
        else:
            if skipping and tag in _SKIP_TAGS:
                skipping = 0
            elif tag in _BLOCK_TAGS:
                parts.append("\n")
            if el.tail:
                parts.append(el.tail)
    # filter(None, ...) drops the empty strings between consecutive breaks at C speed.
    lines = (norm_line(s) for s in filter(None, "".join(parts).split("\n")))
    return [ln for ln in lines if ln]


MAX_META_CHARS = 1_000  # a <meta> date, source or title value: a longer one is none of them


def meta_content(root: html.HtmlElement | None, names: Iterable[str]) -> list[str]:
    """The content of the <meta> elements named (name, property or itemprop) `names`."""
    if root is None:
        return []
    wanted = {n.lower() for n in names}
    out = []
    for el in root.iter("meta"):
        key = (el.get("name") or el.get("property") or el.get("itemprop") or "").lower()
        content = (el.get("content") or "").strip()
        if key in wanted and content and len(content) <= MAX_META_CHARS:
            out.append(content)
    return out
