"""docs/accuracy.md: the results table, the dev set's counts, how each field is scored, the
misses page by page and the gold problems; the section eval/ner_candidates.py appends is kept."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

from extractors import UNSUPPORTED
from gold import Page
from scorecard import Score
from scoring import ENTITY_TYPES, PR, Ratio
from text_table import markdown_table, short

from lznews_normalizer import PIPELINE_VERSION

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "accuracy.md"
NER_MARKER = "<!-- ner-candidates: written by eval/ner_candidates.py, kept by eval/accuracy.py -->"


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
            g = [short(gold[page_id].get(gold_of[f]))] if f in gold_of else []
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
