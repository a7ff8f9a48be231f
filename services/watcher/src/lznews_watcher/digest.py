"""Daily Markdown digests: DIR/<watch>/<YYYY-MM-DD>.md (Lanzhou days, +08:00), one entry per
alert, rewritten atomically; an alert read twice (a replay) is listed once.

Everything in an alert is data from crawled pages or the topic: titles, names, sites and
highlights are Markdown-escaped with control characters dropped, URLs are percent-encoded link
targets, and the `<!-- alert:ID -->` marker (how a replay is recognised) cannot be forged by a
title, because no escaped text can contain `<!--` or `-->`.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from datetime import timedelta, timezone
from pathlib import Path

from lznews_common.models import Alert
from lznews_common.text_safety import UNSAFE, comment_safe, md_link, md_text

LANZHOU = timezone(timedelta(hours=8))
# NAME_MAX of Linux and macOS file systems; a longer watch name would be refused by mkdir
# (ENAMETOOLONG) on every delivery attempt.
MAX_COMPONENT_BYTES = 255
_HASH_CHARS = 16
_PATH_UNSAFE = re.compile(f"[/\\\\]|{UNSAFE.pattern}")


def _safe(name: str) -> str:
    """A watch name as one path component (Chinese kept, separators, controls and dot-names
    not). A name too long for a file name is cut on a UTF-8 character boundary and gets a
    hash of the whole name, so two long names sharing a prefix never share a directory."""
    cleaned = _PATH_UNSAFE.sub("_", name).strip().lstrip(".") or "_"
    raw = cleaned.encode("utf-8")
    if len(raw) <= MAX_COMPONENT_BYTES:
        return cleaned
    tag = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_CHARS]
    head = raw[: MAX_COMPONENT_BYTES - _HASH_CHARS - 1].decode("utf-8", "ignore").rstrip()
    return f"{head}~{tag}"


def _marker(a: Alert) -> str:
    return f"<!-- alert:{comment_safe(a.alert_id)} -->"


def _highlight(fragment: str) -> str:
    """A highlighter fragment (`<em>` around hits, raw page text between) as escaped Markdown
    that starts a block-quote line (so a leading "1." or "-" must not open a list)."""
    out = []
    for i, piece in enumerate(re.split(r"</?em>", " ".join(fragment.split()))):
        text = md_text(piece, line_start=i == 0, strip=False)
        # Odd pieces were inside <em>; an empty hit is dropped rather than left as `****`.
        out.append((f"**{text.strip()}**" if text.strip() else text) if i % 2 else text)
    return "".join(out).strip()


def _entry(a: Alert) -> str:
    when = a.matched_at.astimezone(LANZHOU).strftime("%H:%M")
    bits = [f"- {when} {md_link(a.title, a.url)}", md_text(a.site)]
    if a.doc_number:
        bits.append(md_text(a.doc_number))
    if a.published_at:
        bits.append(f"published {a.published_at.astimezone(LANZHOU):%Y-%m-%d}")
    lines = [" · ".join(b for b in bits if b) + f" {_marker(a)}"]
    for frag in (a.highlights.get("title", []) + a.highlights.get("body", []))[:3]:
        text = _highlight(frag)
        if text:
            lines.append(f"  > {text}")
    return "\n".join(lines) + "\n"


def write(directory: Path, a: Alert) -> Path:
    day = a.matched_at.astimezone(LANZHOU).date().isoformat()
    path = directory / _safe(a.watch) / f"{day}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        text = path.read_text(encoding="utf-8")
    else:
        text = f"# {md_text(a.watch) or '_'} — {day}\n\n"
    if _marker(a) in text:
        return path
    text += _entry(a)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".digest-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return path
