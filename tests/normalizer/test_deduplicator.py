"""The emit decision on real fingerprints of the constructed seed pages."""

from __future__ import annotations

import json
from pathlib import Path

from lznews_common.models import RawPage
from lznews_normalizer.deduplicator import Deduplicator
from lznews_normalizer.pipeline import normalize

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "articles"
PAGES = {p["file"]: p for p in json.loads((FIXTURES / "manifest.json").read_text())["pages"]}


def article(file: str, body: bytes | None = None) -> dict:
    page = PAGES[file]
    raw = RawPage.build(url=page["url"], final_url=page["url"], site=page["site"],
                        http_status=200, body=body or (FIXTURES / file).read_bytes(),
                        headers={"content-type": page["content_type"]}, crawl_id="t")
    return normalize(raw.model_dump(mode="json", by_alias=True))


def decide(dedup: Deduplicator, doc: dict) -> str:
    verdict = dedup.check(doc)
    dedup.record(doc, verdict)
    return verdict.kind


def test_new_unchanged_changed_and_cross_site_copies() -> None:
    store: dict = {}
    dedup = Deduplicator(store)
    people = article("000_people_gansu.html")
    reprint = article("005_lanzhou_gov_reprint_of_000.html")  # simplified, another footer
    assert decide(dedup, people) == "new"
    assert decide(dedup, people) == "unchanged"
    verdict = dedup.check(reprint)
    assert verdict.kind in ("near", "exact") and verdict.duplicate_of == people["id"]
    dedup.record(reprint, verdict)
    assert decide(dedup, reprint) == "unchanged"  # re-fetching the copy stays quiet

    lzbs = article("003_lzbs.html")
    assert decide(dedup, lzbs) == "new"
    original = (FIXTURES / "003_lzbs.html").read_bytes()
    edited = original.replace("近日".encode(), "本月初".encode(), 1)
    assert decide(dedup, article("003_lzbs.html", edited)) == "changed"
    assert {k[:2] for k in store} >= {"u:", "c:", "sh"}
