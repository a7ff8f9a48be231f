"""The dev set (eval/devset/): its pages with their gold labels, and the checks that flag gold
labels contradicting their page or the schema (reported, never fixed here)."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lxml.html
from scoring import ENTITY_TYPES, local_day, squash
from text_table import short

from lznews_normalizer.convert import convert

DEVSET = Path(__file__).resolve().parent / "devset"
# Declared charset -> the codec a browser uses for it (WHATWG: gb2312/gbk are read as GB18030).
CODECS = {"utf-8": "utf-8", "gbk": "gb18030", "gb2312": "gb18030", "gb18030": "gb18030",
          "big5": "big5hkscs"}
ARTICLE_KEYS = ("title", "published_at", "source", "authors", "editors", "doc_number",
                "entities", "body_keep", "body_drop")
BASE_KEYS = ("id", "provenance", "url", "site", "site_type", "kind", "charset", "script")
ENUMS = {"site_type": {"gov", "news", "other"}, "kind": {"article", "listing"},
         "charset": set(CODECS), "script": {"hans", "hant"}}
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w-]+)", re.I)


@dataclass
class Page:
    id: str
    gold: dict[str, Any]
    html: bytes

    @property
    def text(self) -> str:
        codec = CODECS.get(str(self.gold.get("charset", "")).lower(), "utf-8")
        return self.html.decode(codec, errors="replace")


def load_devset(folder: Path, problems: list[str]) -> list[Page]:
    pages = []
    for path in sorted(folder.glob("*.json")):
        try:
            gold = json.loads(path.read_text("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            problems.append(f"{path.name}: not valid JSON ({exc})")
            continue
        html_path = path.with_suffix(".html")
        if not html_path.exists():
            problems.append(f"{path.name}: no {html_path.name}")
            continue
        page = Page(path.stem, gold, html_path.read_bytes())
        problems.extend(f"{page.id}: {p}" for p in check_gold(page))
        if gold.get("kind") in ("article", "listing"):  # otherwise reported, not scored
            pages.append(page)
    return pages


def check_gold(page: Page) -> list[str]:
    """Gold labels that contradict the page or the schema (the page itself is not changed)."""
    g, out = page.gold, []
    if g.get("id") != page.id:
        out.append(f"id is {g.get('id')!r}, file is {page.id}")
    needed = BASE_KEYS + (ARTICLE_KEYS if g.get("kind") == "article" else ())
    if missing := [k for k in needed if k not in g]:
        out.append(f"missing keys: {', '.join(missing)} (those fields are not scored)")
    out += [f"{k} = {g.get(k)!r} is not one of {sorted(v)}" for k, v in ENUMS.items()
            if k in g and str(g[k]).lower() not in v]
    declared = _META_CHARSET.search(page.html[:4096])
    if declared and g.get("charset") and declared[1].decode().lower() != g["charset"].lower():
        out.append(f"charset {g['charset']!r} but the page declares {declared[1].decode()!r}")
    codec = CODECS.get(str(g.get("charset", "")).lower())
    if codec:
        try:
            page.html.decode(codec)
        except UnicodeDecodeError as exc:
            out.append(f"bytes are not valid {g['charset']} ({exc.reason} at {exc.start})")
    try:
        text = lxml.html.fromstring(page.text).text_content()
    except Exception:  # noqa: BLE001
        return out + ["page does not parse as HTML"]
    if g.get("script") in ("hans", "hant") and convert(text).original_script != g["script"]:
        out.append(f"script {g['script']!r} but the page text reads as "
                   f"{convert(text).original_script!r}")
    if g.get("kind") != "article":
        return out
    flat = squash(text) + "\n" + squash(html.unescape(page.text))  # button labels are attributes
    strings = [("title", g.get("title")), ("source", g.get("source")),
               ("doc_number", g.get("doc_number"))]
    strings += [(k, s) for k in ("authors", "editors", "body_keep", "body_drop")
                for s in g.get(k) or []]
    strings += [(f"entities.{t}", s) for t in ENTITY_TYPES for s in (g.get("entities") or {})
                .get(t) or []]
    for key, s in strings:
        if s and squash(s) not in flat:
            out.append(f"{key} {short(s, 40)!r} is not in the page text")
    if g.get("published_at") and local_day(g["published_at"]) is None:
        out.append(f"published_at {g['published_at']!r} is not a date")
    return out
