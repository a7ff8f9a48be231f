"""Title, publication time, source, authors, editors and document number of one page.

Each field has its own module (titles, dates, sources, bylines, doc_numbers); this one reads
them all from the same page text. All inputs are expected repaired and simplified.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from lxml import html

from .bylines import find_authors, find_editors
from .dates import published_at, rfc3339
from .doc_numbers import find_doc_number
from .sources import find_source
from .titles import under_title


@dataclass
class Metadata:
    title: str | None = None
    published_at: str | None = None
    source: str | None = None
    authors: list[str] = field(default_factory=list)
    editors: list[str] = field(default_factory=list)
    doc_number: str | None = None


def extract_metadata(root: html.HtmlElement | None, title: str | None, page_lines: list[str],
                     info_lines: list[str], body: list[str], url: str,
                     fix: Callable[[str], str] = str, latest: date | None = None) -> Metadata:
    """All metadata around `title` (extract_title's, read once: the boilerplate rules need it
    before the body lines this reads exist); `fix` repairs and simplifies strings read straight
    from the tree."""
    header = info_lines + page_lines
    return Metadata(
        title=title,
        published_at=rfc3339(published_at(page_lines, info_lines, url, root, latest, title)),
        source=find_source(info_lines, page_lines, root, fix, under_title(page_lines, title),
                           body),
        authors=find_authors(info_lines, page_lines, body),
        editors=find_editors(header),
        doc_number=find_doc_number(page_lines, body, title),
    )
