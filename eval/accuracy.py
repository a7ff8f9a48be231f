"""`make eval`: lznews vs trafilatura vs GNE on the real-page dev set (eval/devset/).

Runs the three extractors on every page, scores each field against the gold labels (rules in
eval/scoring.py), prints one table and writes docs/accuracy.md: the table, the counts of the
dev set, the misses page by page and the gold labels that do not match their page. A section
written by eval/ner_candidates.py at the end of the doc is kept.

The work is split by step: gold.py (dev set and gold checks), extractors.py (the systems),
scorecard.py (scoring and timing), report.py (the doc) and text_table.py (tables).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections import Counter
from datetime import datetime
from pathlib import Path

from gold import DEVSET, load_devset
from report import DOC, ROOT, table, write_doc
from scorecard import evaluate
from text_table import render


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
