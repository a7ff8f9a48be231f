"""`make eval`: lznews vs trafilatura vs GNE on the real-page dev set (eval/devset/).

Runs the three extractors on every page, scores each field against the gold labels (rules in
eval/scoring.py), prints one table and writes docs/accuracy.md: the table, the counts of the
dev set, the misses page by page and the gold labels that do not match their page. A section
written by eval/ner_candidates.py at the end of the doc is kept.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import re
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import lxml.html
from scoring import (
    ENTITY_TYPES,
    PR,
    Ratio,
    body_leftover,
    body_missing,
    local_day,
    score_date,
    score_decision,
    score_doc_number,
    score_entities,
    score_names,
    score_source,
    score_title,
    split_names,
    squash,
)

from lznews_normalizer import PIPELINE_VERSION
from lznews_normalizer.cli import guess_site
from lznews_normalizer.convert import convert
from lznews_normalizer.errors import NotAnArticle, StageError
from lznews_normalizer.pipeline import normalize

ROOT = Path(__file__).resolve().parents[1]
DEVSET = ROOT / "eval" / "devset"
DOC = ROOT / "docs" / "accuracy.md"
NER_MARKER = "<!-- ner-candidates: written by eval/ner_candidates.py, kept by eval/accuracy.py -->"
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


@dataclass
class Output:
    """One system's reading of one page; None in a list field = the system has no such field."""

    accepted: bool
    error: str | None = None  # why it was rejected, or what crashed
    title: str | None = None
    published_at: str | None = None
    source: str | None = None
    authors: list[str] | None = None
    editors: list[str] | None = None
    doc_number: str | None = None
    body: str = ""
    entities: dict[str, list[str]] | None = None
    crashed: bool = False


# --- the three systems ---------------------------------------------------------------------------


def run_lznews(page: Page) -> Output:
    url = page.gold.get("url") or ""
    raw = {
        "url": url, "final_url": url, "site": guess_site(url), "fetched_at": "2026-01-01T00:00:00Z",
        "http_status": 200, "headers": {"content-type": None, "last-modified": None, "etag": None},
        "body_b64": base64.b64encode(page.html).decode("ascii"), "crawl_id": "eval",
    }
    try:
        art = normalize(raw)
    except NotAnArticle as exc:
        return Output(False, error=f"not an article: {exc.reason}")
    except StageError as exc:
        return Output(False, error=f"failed in {exc.stage}: {exc.reason}", crashed=True)
    return Output(True, None, art["title"], art["published_at"], art["source"], art["authors"],
                  art["editors"], art["doc_number"], art["body"], art["entities"])


def run_trafilatura(page: Page) -> Output:
    import trafilatura

    doc = trafilatura.bare_extraction(page.text, url=page.gold.get("url"), with_metadata=True)
    data = doc.as_dict() if doc is not None else {}
    if not (data.get("text") or "").strip():
        return Output(False, error="no text extracted")
    # its sitename is the site's name or host, not a 来源 line: source is not scored
    return Output(True, None, data.get("title"), data.get("date"), None,
                  split_names(data.get("author")), body=data["text"])


_gne: Any = None


def run_gne(page: Page) -> Output:
    global _gne
    if _gne is None:
        from gne import GeneralNewsExtractor

        _gne = GeneralNewsExtractor()
    data = _gne.extract(page.text)
    return Output(True, None, data.get("title"), data.get("publish_time"), None,
                  split_names(data.get("author")), body=data.get("content") or "")


SYSTEMS: dict[str, Callable[[Page], Output]] = {
    "lznews": run_lznews, "trafilatura": run_trafilatura, "GNE": run_gne,
}
# Fields a system has no output for are left blank rather than scored as misses.
UNSUPPORTED = {
    "lznews": set(),
    "trafilatura": {"source", "editors", "doc_number", "entities"},
    "GNE": {"source", "editors", "doc_number", "entities"},
}


# --- scoring -----------------------------------------------------------------------------------


@dataclass
class Score:
    decision: dict[str, Ratio] = field(default_factory=lambda: {"article": Ratio(),
                                                                "listing": Ratio()})
    ratios: dict[str, Ratio] = field(default_factory=dict)
    prs: dict[str, PR] = field(default_factory=dict)
    rejected: int = 0
    errors: int = 0
    seconds: float = 0.0
    misses: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # field -> (page, got)

    def ratio(self, name: str, ok: bool, n: int = 1) -> None:
        self.ratios.setdefault(name, Ratio()).add(ok, n)

    def pr(self, name: str, pr: PR) -> None:
        self.prs.setdefault(name, PR()).add(pr)

    def miss(self, name: str, page: str, got: str) -> None:
        self.misses.setdefault(name, []).append((page, got))

    def check(self, name: str, page: str, right: bool, got: Any) -> None:
        """A right/wrong field: counted, and the output kept for the misses table."""
        self.ratio(name, right)
        if not right:
            self.miss(name, page, _short(got))


def _short(value: Any, n: int = 60) -> str:
    if isinstance(value, list):
        value = ", ".join(value) or "[]"
    s = "null" if value is None else str(value) or '""'
    s = s.replace("\n", " ").replace("|", "\\|")
    return s if len(s) <= n else s[: n - 1] + "…"


def score_page(page: Page, out: Output, skip: set[str], sc: Score) -> None:
    """Add one page's result to the system's score (article fields only for article pages)."""
    g = page.gold
    kind = g["kind"]
    sc.decision[kind].add(score_decision(kind, out.accepted))
    if kind == "listing":
        if out.accepted:
            sc.miss("decision", page.id, "accepted a listing")
        return
    if out.crashed or not out.accepted:
        sc.errors += out.crashed
        sc.rejected += not out.crashed and not out.accepted
        sc.miss("decision", page.id, _short(out.error or "rejected", 80))
    ok = out.accepted and not out.crashed  # otherwise the article misses every field
    if not ok:
        out = Output(False, title="(rejected)", published_at="(rejected)", source="(rejected)",
                     doc_number="(rejected)")
    have = set(g) - skip
    if "title" in have:
        exact, contains = score_title(g["title"], out.title)
        sc.check("title", page.id, ok and exact, out.title)
        sc.ratio("title contains gold", ok and contains)
    if "published_at" in have:
        sc.check("date", page.id, ok and score_date(g["published_at"], out.published_at),
                 out.published_at)
    if "source" in have:
        sc.check("source", page.id, ok and score_source(g["source"], out.source), out.source)
    if "doc_number" in have:
        sc.check("doc_number", page.id, ok and score_doc_number(g["doc_number"], out.doc_number),
                 out.doc_number)
    for name in ("authors", "editors"):
        if name in have:
            got = getattr(out, name) if ok else []
            pr = score_names(g[name] or [], got)
            sc.pr(name, pr)
            if pr.tp != pr.pred or pr.tp != pr.gold:
                sc.miss(name, page.id, _short(got or []))
    if "body_keep" in have and g["body_keep"]:
        missing = body_missing(g["body_keep"], out.body) if ok else g["body_keep"]
        sc.ratio("body kept", True, len(g["body_keep"]) - len(missing))
        sc.ratio("body kept", False, len(missing))
        if missing:
            sc.miss("body kept", page.id, f"{len(missing)} missing: " + _short(missing, 80))
    if "body_drop" in have and g["body_drop"]:
        left = body_leftover(g["body_drop"], out.body) if ok else g["body_drop"]
        sc.ratio("boilerplate removed", True, len(g["body_drop"]) - len(left))
        sc.ratio("boilerplate removed", False, len(left))
        if left:
            sc.miss("boilerplate removed", page.id, f"{len(left)} left: " + _short(left, 80))
    if "entities" in have:
        gold_ents = g["entities"] or {}
        got_ents = out.entities if ok else None
        for typ, pr in score_entities(gold_ents, got_ents).items():
            sc.pr(f"entities: {typ}", pr)
        for typ in ENTITY_TYPES:
            gold_set = {squash(x) for x in gold_ents.get(typ) or []}
            got = (got_ents or {}).get(typ) or []
            got_set = {squash(x) for x in got}
            lost = [x for x in gold_ents.get(typ) or [] if squash(x) not in got_set]
            extra = [x for x in got if squash(x) not in gold_set]
            if lost or extra:
                parts = [f"missed: {_short(lost, 50)}" if lost else "",
                         f"extra: {_short(extra, 50)}" if extra else ""]
                sc.miss(f"entities: {typ}", page.id, "; ".join(p for p in parts if p))


def evaluate(pages: list[Page]) -> dict[str, Score]:
    scores = {}
    for name, run in SYSTEMS.items():
        sc = Score()
        warm = next((p for p in pages if p.gold["kind"] == "article"), pages[0])
        with suppress(Exception):
            run(warm)  # warm-up on an article (jieba dictionary, lazy imports): not timed
        for page in pages:
            start = time.perf_counter()
            try:
                out = run(page)
            except Exception as exc:  # noqa: BLE001 - a crash misses the page, not the run
                out = Output(name == "GNE", f"{type(exc).__name__}: {exc}", crashed=True)
            sc.seconds += time.perf_counter() - start
            score_page(page, out, UNSUPPORTED[name], sc)
        scores[name] = sc
    return scores


# --- dev set and gold checks -------------------------------------------------------------------


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
            out.append(f"{key} {_short(s, 40)!r} is not in the page text")
    if g.get("published_at") and local_day(g["published_at"]) is None:
        out.append(f"published_at {g['published_at']!r} is not a date")
    return out


# --- report ------------------------------------------------------------------------------------


def table(scores: dict[str, Score], pages: list[Page]) -> list[list[str]]:
    names = list(scores)
    rows = [["", *names]]

    def row(label: str, cell: Callable[[str, Score], str]) -> None:
        rows.append([label, *(cell(n, scores[n]) for n in names)])

    def blank_if(fieldname: str, text: Callable[[Score], str]) -> Callable[[str, Score], str]:
        return lambda n, s: "" if fieldname in UNSUPPORTED[n] else text(s)

    row("articles accepted", lambda n, s: "accepts all" if n == "GNE"
        else str(s.decision["article"]))
    row("listings rejected", lambda n, s: "accepts all" if n == "GNE"
        else str(s.decision["listing"]))
    row("rejected articles", lambda n, s: str(s.rejected))
    row("errors / crashes", lambda n, s: str(s.errors))
    for label, key in (("title exact", "title"), ("title contains gold", "title contains gold"),
                       ("date (day)", "date"), ("source", "source"), ("doc_number", "doc_number"),
                       ("body kept", "body kept"), ("boilerplate removed", "boilerplate removed")):
        row(label, blank_if(key, lambda s, key=key: str(s.ratios.get(key, Ratio()))))
    for label in ("authors", "editors", *(f"entities: {t}" for t in (*ENTITY_TYPES, "all"))):
        key = "entities" if label.startswith("entities") else label
        row(label + " P/R", blank_if(key, lambda s, label=label: str(s.prs.get(label, PR()))))
    row("pages/s", lambda n, s: f"{len(pages) / s.seconds:.1f}" if s.seconds else "–")
    return rows


def render(rows: list[list[str]]) -> str:
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c + " " * (w - _width(c)) for c, w in zip(r, widths, strict=True))
             for r in rows]
    return "\n".join(lines)


def _width(s: str) -> int:
    return sum(2 if ord(c) > 0x2E7F else 1 for c in s)


def markdown_table(rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    out += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(out)


def counts(pages: list[Page]) -> str:
    parts = []
    for key in ("kind", "site_type", "charset", "script"):
        c = Counter(str(p.gold.get(key)) for p in pages)
        parts.append(f"- {key}: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())))
    sites = Counter(p.gold.get("site") for p in pages)
    parts.append(f"- sites: {len(sites)} (" + ", ".join(f"{k} {v}" for k, v in
                                                      sites.most_common()) + ")")
    return "\n".join(parts)


def misses_section(scores: dict[str, Score], pages: list[Page]) -> str:
    gold = {p.id: p.gold for p in pages}
    gold_of = {"title": "title", "date": "published_at", "source": "source",
               "authors": "authors", "editors": "editors", "doc_number": "doc_number"}
    order = ["decision", *gold_of, "body kept", "boilerplate removed",
             *(f"entities: {t}" for t in ENTITY_TYPES)]
    fields = [f for f in order if any(f in s.misses for s in scores.values())]
    out = []
    for f in fields:
        by_page: dict[str, dict[str, str]] = {}
        for name, sc in scores.items():
            for page_id, got in sc.misses.get(f, []):
                by_page.setdefault(page_id, {})[name] = got
        out.append(f"\n### {f}\n")
        head = ["page", *(["gold"] if f in gold_of else []), *scores]
        out.append("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
        for page_id in sorted(by_page):
            g = [_short(gold[page_id].get(gold_of[f]))] if f in gold_of else []
            cells = [by_page[page_id].get(n, "" if f.split(":")[0] in UNSUPPORTED[n] else "✓")
                     for n in scores]
            out.append("| " + " | ".join([page_id, *g, *cells]) + " |")
    return "\n".join(out) if out else "\nNo misses."


RULES = """\
All strings on both sides are normalised first: the normaliser's own traditional -> simplified
conversion (`lznews_normalizer.convert.convert`: OpenCC t2s, and tw2s plus its Taiwan terms for
text that reads as traditional), NFKC (full-width -> half-width), one form for brackets and
quotes, whitespace collapsed and dropped next to Chinese characters, lower case.

- **articles accepted / listings rejected**: lznews rejects by raising NotAnArticle (a
  StageError also counts as a rejection, and as an error); trafilatura rejects when it returns
  nothing or empty text; GNE never rejects ("accepts all"). Only article pages count for the
  field rows; an article a system rejected is a miss on every field (and counts in "rejected
  articles").
- **title exact**: equal after normalisation; **title contains gold**: the output contains the
  gold title (e.g. a title with the site name appended).
- **date (day)**: the day of the output, converted to +08:00 when it has an offset (a naive
  value is taken as local time), equals the day of the gold `published_at`; gold null is right
  only when the output is null.
- **source**: equal after normalisation, or one contains the other when the shorter has at least
  2 characters (人民网 vs 人民网-甘肃频道); gold null is right only when the output is null.
  GNE has no source field; trafilatura's `sitename` is the site's name or host, not the 来源
  line, so neither is scored (blank).
- **authors / editors**: precision and recall of names, micro-averaged over pages (sums of right
  names, output names and gold names, shown as right/output/gold), exact name match. For
  trafilatura and GNE the single author string is split on whitespace, comma, 、, ，, /, ; and :
  after removing 记者 / 本报记者 / 实习记者 / 作者 / 编辑 / 责任编辑. Neither has an editors field.
- **doc_number**: exact after normalisation, with (), [] and 〔〕 around the year treated alike;
  gold null is right only when the output is null.
- **body kept**: share of the gold `body_keep` sentences found in the body (all whitespace
  removed on both sides), over all sentences; **boilerplate removed**: share of the gold
  `body_drop` strings not found in the body.
- **entities**: precision and recall per type and over the three types, micro-averaged; an
  output name is right when it equals a gold name of the same type. trafilatura and GNE have no
  NER (blank).
- **pages/s**: all dev-set pages (articles and listings) divided by the time spent inside the
  system, after one untimed warm-up page.
- Inputs: lznews gets the raw bytes as a `lznews.raw-page/1` (no Content-Type header, so it
  detects the charset itself); trafilatura and GNE get the text decoded with the gold charset
  as a browser reads it (gb2312/gbk as GB18030, big5 as Big5-HKSCS).
"""


def write_doc(rows: list[list[str]], scores: dict[str, Score], pages: list[Page],
              problems: list[str], when: str) -> None:
    kept = ""
    if DOC.exists() and NER_MARKER in (old := DOC.read_text("utf-8")):
        kept = old[old.index(NER_MARKER):]
    versions = (f"lznews {PIPELINE_VERSION}, trafilatura {version('trafilatura')}, "
                f"gne {version('gne')}")
    doc = f"""# Accuracy on the real-page dev set

Generated by `make eval` (eval/accuracy.py) on {when}; do not edit by hand. Versions: {versions}.

## Dev set

{len(pages)} pages in eval/devset/ (real captured pages, gold labelled by reading them;
layout and schema in eval/devset/SCHEMA.md):

{counts(pages)}

## Results

{markdown_table(rows)}

P/R cells: precision, recall (right / output names / gold names). Blank: the system has no such
output.

## How each field is scored

{RULES}
## Misses by page

One table per field: the pages that at least one system got wrong, with what each system
output (✓ = right, blank = not scored for that system).
{misses_section(scores, pages)}

## Gold labels that look wrong

{chr(10).join(f"- {p}" for p in problems) if problems else "None found."}

"""
    DOC.write_text(doc + kept, "utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devset", type=Path, default=DEVSET)
    ap.add_argument("--no-doc", action="store_true", help="print the table only")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    problems: list[str] = []
    pages = load_devset(args.devset, problems)
    if not pages:
        print(f"no pages in {args.devset}", file=sys.stderr)
        return 1
    when = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    scores = evaluate(pages)
    rows = table(scores, pages)
    kinds = Counter(p.gold.get("kind") for p in pages)
    print(f"{len(pages)} pages ({kinds['article']} articles, {kinds['listing']} listings), {when}")
    print(render(rows))
    if problems:
        print(f"\n{len(problems)} gold problems (listed in {DOC.relative_to(ROOT)})")
    if not args.no_doc:
        write_doc(rows, scores, pages, problems, when)
        print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
