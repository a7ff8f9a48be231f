"""Plain-text and Markdown tables, and the short cell text the tables and gold checks share."""

from __future__ import annotations

from typing import Any


def short(value: Any, n: int = 60) -> str:
    """One table cell: a list joined, null and "" spelled out, | escaped, cut at n characters."""
    if isinstance(value, list):
        value = ", ".join(value) or "[]"
    s = "null" if value is None else str(value) or '""'
    s = s.replace("\n", " ").replace("|", "\\|")
    return s if len(s) <= n else s[: n - 1] + "…"


def render(rows: list[list[str]]) -> str:
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c + " " * (w - _width(c)) for c, w in zip(r, widths, strict=True))
             for r in rows]
    return "\n".join(lines)


def _width(s: str) -> int:
    # CJK and full-width characters take two terminal columns.
    return sum(2 if ord(c) > 0x2E7F else 1 for c in s)


def markdown_table(rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    out += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(out)
