"""One system's score over the dev set: every page's fields scored (eval/scoring.py) and summed,
with the misses kept for the report; evaluate() runs and times every system."""

from __future__ import annotations

import time
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from extractors import SYSTEMS, UNSUPPORTED, Output
from gold import Page
from scoring import (
    ENTITY_TYPES,
    PR,
    Ratio,
    body_leftover,
    body_missing,
    score_date,
    score_decision,
    score_doc_number,
    score_entities,
    score_names,
    score_source,
    score_title,
    squash,
)
from text_table import short


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
            self.miss(name, page, short(got))


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
        sc.miss("decision", page.id, short(out.error or "rejected", 80))
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
                sc.miss(name, page.id, short(got or []))
    if "body_keep" in have and g["body_keep"]:
        missing = body_missing(g["body_keep"], out.body) if ok else g["body_keep"]
        sc.ratio("body kept", True, len(g["body_keep"]) - len(missing))
        sc.ratio("body kept", False, len(missing))
        if missing:
            sc.miss("body kept", page.id, f"{len(missing)} missing: " + short(missing, 80))
    if "body_drop" in have and g["body_drop"]:
        left = body_leftover(g["body_drop"], out.body) if ok else g["body_drop"]
        sc.ratio("boilerplate removed", True, len(g["body_drop"]) - len(left))
        sc.ratio("boilerplate removed", False, len(left))
        if left:
            sc.miss("boilerplate removed", page.id, f"{len(left)} left: " + short(left, 80))
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
                parts = [f"missed: {short(lost, 50)}" if lost else "",
                         f"extra: {short(extra, 50)}" if extra else ""]
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
