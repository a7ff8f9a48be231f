"""Daily Markdown digests: DIR/<watch>/<YYYY-MM-DD>.md (Lanzhou days, +08:00), one entry per
alert, rewritten atomically; an alert read twice (a replay) is listed once."""

from __future__ import annotations

import os
import re
import tempfile
from datetime import timedelta, timezone
from pathlib import Path

from lznews_common.models import Alert

LANZHOU = timezone(timedelta(hours=8))


def _safe(name: str) -> str:
    """A watch name as one path component (Chinese kept, separators and dot-names not)."""
    cleaned = re.sub(r"[/\\\x00-\x1f]", "_", name).strip()
    return cleaned.lstrip(".") or "_"


def _entry(a: Alert) -> str:
    when = a.matched_at.astimezone(LANZHOU).strftime("%H:%M")
    bits = [f"- {when} [{a.title}]({a.url})", a.site]
    if a.doc_number:
        bits.append(a.doc_number)
    if a.published_at:
        bits.append(f"published {a.published_at.astimezone(LANZHOU):%Y-%m-%d}")
    lines = [" · ".join(bits) + f" <!-- alert:{a.alert_id} -->"]
    for frag in (a.highlights.get("title", []) + a.highlights.get("body", []))[:3]:
        text = " ".join(frag.split()).replace("<em>", "**").replace("</em>", "**")
        lines.append(f"  > {text}")
    return "\n".join(lines) + "\n"


def write(directory: Path, a: Alert) -> Path:
    day = a.matched_at.astimezone(LANZHOU).date().isoformat()
    path = directory / _safe(a.watch) / f"{day}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = path.read_text(encoding="utf-8") if path.exists() else f"# {a.watch} — {day}\n\n"
    if f"<!-- alert:{a.alert_id} -->" in text:
        return path
    text += _entry(a)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".digest-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return path
