"""Main article text from HTML: trafilatura finds the article container well; our densest-block
rule takes over where it finds too little. The lines still hold boilerplate (boilerplate.py)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from lxml import etree, html

from .han import han_count
from .parse import html_lines, norm_line

# More elements than this and trafilatura is not run (its extraction is quadratic in the element
# count: 50,000 headings take it 20 s); the densest-block rule extracts instead. Real article
# pages have at most a few thousand elements.
MAX_TRAFILATURA_ELEMENTS = 10_000

logging.getLogger("trafilatura").setLevel(logging.CRITICAL)


def _trafilatura_lines(text: str) -> list[str]:
    import trafilatura

    out = trafilatura.extract(
        text,
        include_comments=False,
        include_tables=True,
        include_links=False,
        include_images=False,
        include_formatting=False,
        deduplicate=False,
        favor_recall=True,
        with_metadata=False,
    )
    if not out:
        return []
    lines = []
    for ln in out.split("\n"):
        ln = norm_line(ln)
        if ln.startswith("|") and ln.endswith("|"):  # table row rendering: | a | b |
            ln = norm_line(" ".join(c for c in ln.strip("|").split("|") if c.strip()))
        if ln.startswith("- "):  # list item rendering
            ln = ln[2:].strip()
        if ln:
            lines.append(ln)
    return lines


_BLOCKS = {"div", "td", "article", "section", "body", "main"}
_SCORED = {"p", "br", "span", "font", "strong", "div"}


def _subtree_han(root: html.HtmlElement) -> dict[html.HtmlElement, int]:
    """Han characters in each element's text_content(), all counted in one pass (calling
    text_content() per element costs the nesting depth times the text)."""
    totals: dict[html.HtmlElement, int] = {}
    for _, el in etree.iterwalk(root, events=("end",)):
        n = han_count(el.text) if el.text else 0
        for child in el:
            n += totals.get(child, 0) + (han_count(child.tail) if child.tail else 0)
        totals[el] = n
    return totals


def _densest_block(root: html.HtmlElement) -> html.HtmlElement:
    """Element whose direct children carry the most non-link Han text (fallback extractor)."""
    subtree = _subtree_han(root)
    best, best_score = root, 0
    for el in root.iter(*_BLOCKS):
        score = 0
        for child in el:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag in _SCORED and not (tag == "div" and len(child)):
                score += subtree.get(child, 0)
            if child.tail:
                score += han_count(child.tail)
        if el.text:
            score += han_count(el.text)
        if score > best_score:
            best, best_score = el, score
    return best


@dataclass
class Extracted:
    lines: list[str]
    extractor: str  # trafilatura | fallback


FALLBACK_FACTOR = 3


def extract_main(text: str, root: html.HtmlElement, min_han: int = 50,
                 elements: int | None = None) -> Extracted:
    """Article lines: trafilatura first, our densest-block rule when it finds too little (or
    when the page has too many elements for trafilatura to finish in time)."""
    lines: list[str] = []
    if elements is None:
        elements = int(root.xpath("count(//*)"))
    try:
        if elements <= MAX_TRAFILATURA_ELEMENTS:
            lines = _trafilatura_lines(text)
    except (RecursionError, ValueError, TypeError, etree.LxmlError):
        lines = []
    got = han_count("".join(lines))
    fallback = html_lines(_densest_block(root))
    # trafilatura sometimes keeps only a lead paragraph of a <br>-separated body: the densest
    # block holding several times the text wins then, as it does when trafilatura finds little.
    if got < min_han or han_count("".join(fallback)) > FALLBACK_FACTOR * got:
        if han_count("".join(fallback)) > got:
            return Extracted(fallback, "fallback")
    return Extracted(lines, "trafilatura")
